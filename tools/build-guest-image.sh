#!/bin/sh
# Builds the real-tier guest: a Debian cloud kernel and a busybox-static
# initramfs with the virtio-net modules of that same kernel package.
#
#   tools/build-guest-image.sh [OUTDIR]      (default: build-guest)
#
# Outputs OUTDIR/vmlinuz and OUTDIR/initramfs.cpio.gz. Cached: when both are
# newer than this script, nothing is done. Only Debian packages are used; the
# kernel .deb is fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` into a temporary directory, so the host's /boot and
# /lib/modules are never touched. Needs: apt, dpkg-deb, cpio, gzip, kmod
# (depmod), busybox-static (installed, or fetched the same way).
#
# Guest protocol (what the harness relies on):
#   Kernel command line:
#     console=ttyS0          the serial port that carries everything below
#     lmh.ip=10.0.0.5/24     address of eth0 (required for networking)
#     lmh.gw=10.0.0.1        default route (optional)
#     lmh.garp=0             do not send the gratuitous ARP at boot (default 1)
#   The MAC is the NIC's own (from the domain XML), never set by the guest.
#   Boot: mounts proc, sys, dev; loads virtio_pci and virtio_net; brings lo
#   and eth0 up with lmh.ip; sends one gratuitous ARP (`arping -U -c 1`);
#   then prints, on a line of its own, on ttyS0:
#     LMH-GUEST-READY ip=<cidr> mac=<mac>
#   The kernel answers ping from then on.
#   Serial commands: one per line written to ttyS0 (no echo). Each command
#   prints its output and then exactly one line
#     LMH-DONE <seq> rc=<exit code>
#   where <seq> is the first word of the command line when it is a number
#   (so a harness can match answers to requests), else "-".
#     [seq] ping IP [COUNT]   ping -c COUNT (default 1) -W 1 IP
#     [seq] arping IP         arping -c 1 -w 1 -I eth0 IP (a who-has ARP)
#     [seq] garp              arping -U -c 1 -I eth0 <own ip> (gratuitous ARP)
#     [seq] ready             prints the ready line again
#     [seq] ip                ip -o addr; ip -o link
#     [seq] diag              one line each: the clocksource, uptime, eth0's
#                             counters (/proc/net/dev), its link state, the
#                             virtio and timer interrupt counts, and the
#                             kernel's last messages (for a guest that stopped
#                             answering on the network)
#   Anything else answers rc=127.
#   After the ready line the kernel logs everything to ttyS0 (printk level
#   8), so a watchdog, RCU stall or clocksource message of a guest that
#   hangs later is in the serial log.
set -eu

script=$(readlink -f "$0")
out=${1:-build-guest}
mkdir -p "$out"
out=$(readlink -f "$out")

if [ -f "$out/vmlinuz" ] && [ -f "$out/initramfs.cpio.gz" ] \
   && [ "$out/vmlinuz" -nt "$script" ] && [ "$out/initramfs.cpio.gz" -nt "$script" ]; then
  exit 0
fi

# Every program this script runs beyond the shell's builtins and Debian's
# Essential packages; each is in harness/system/external_programs.cpp with its
# package (a unit test checks that list against this line).
needs="apt-get apt-cache dpkg-deb cpio gzip depmod sed"
for tool in $needs; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-guest-image: $tool not found" >&2; exit 3; }
done

start=$(date +%s.%N)
work=$(mktemp -d "${TMPDIR:-/tmp}/lmh-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# Fetches Debian package $1 into $work/pkgs and unpacks it into $work/$2.
fetch_deb() {
  mkdir -p "$work/pkgs" "$work/$2"
  (cd "$work/pkgs" && apt-get download "$1" >/dev/null 2>"$work/apt.err") || {
    cat "$work/apt.err" >&2
    echo "build-guest-image: apt-get download $1 failed (run apt-get update?)" >&2
    exit 3
  }
  dpkg-deb -x "$work/pkgs/$1"_*.deb "$work/$2"
}

# The kernel: whatever linux-image-cloud-amd64 points at today.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
       | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
[ -n "$kpkg" ] || { echo "build-guest-image: cannot resolve linux-image-cloud-amd64 (apt-get update?)" >&2; exit 3; }
kver=${kpkg#linux-image-}
fetch_deb "$kpkg" kernel
kroot="$work/kernel"
kmods="$kroot/lib/modules/$kver"
[ -f "$kroot/boot/vmlinuz-$kver" ] || { echo "build-guest-image: no vmlinuz in $kpkg" >&2; exit 3; }

# busybox-static: the installed binary when there is one, else the package.
if [ -x /bin/busybox ] && dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
  busybox=/bin/busybox
else
  fetch_deb busybox-static busybox
  busybox="$work/busybox/bin/busybox"
fi

root="$work/root"
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
         "$root/lib/modules/$kver"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done

# virtio-net and what it needs; virtio_pci is the bus driver (not a
# dependency of virtio_net, so modprobe'd by name in /init).
for m in virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
         failover net_failover virtio_net; do
  f=$(find "$kmods/kernel" -name "$m.ko*" | head -n 1)
  if [ -z "$f" ]; then
    grep -q "/$m.ko" "$kmods/modules.builtin" 2>/dev/null && continue
    echo "build-guest-image: module $m not in $kpkg" >&2; exit 3
  fi
  rel=${f#"$kmods"/}
  mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
  # Debian 12's kernels ship plain .ko files; a compressed one would need a
  # decompressor that the set-up does not install.
  case "$f" in
    *.ko) cp "$f" "$root/lib/modules/$kver/$rel" ;;
    *) echo "build-guest-image: $f is compressed; only plain .ko modules are supported" >&2; exit 3 ;;
  esac
done
cp "$kmods"/modules.builtin* "$kmods/modules.order" "$root/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$root" "$kver"

cat >"$root/init" <<'EOF'
#!/bin/sh
# lmh guest init (see tools/build-guest-image.sh for the protocol).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/ttyS0 >/dev/ttyS0 2>&1
stty -echo 2>/dev/null

arg() { # value of lmh.$1= on the kernel command line, $2 when absent
  for w in $(cat /proc/cmdline); do
    case "$w" in "lmh.$1="*) echo "${w#*=}"; return ;; esac
  done
  echo "$2"
}
ip_cidr=$(arg ip "")
gw=$(arg gw "")
garp_on_boot=$(arg garp 1)
own_ip=${ip_cidr%/*}

modprobe virtio_pci
modprobe virtio_net
ip link set lo up
# The NIC shows up asynchronously after the driver binds.
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 200 ]; do usleep 10000; n=$((n + 1)); done
if [ -n "$ip_cidr" ]; then
  ip addr add "$ip_cidr" dev eth0
fi
ip link set eth0 up
[ -n "$gw" ] && ip route add default via "$gw"
mac=$(cat /sys/class/net/eth0/address 2>/dev/null)
ready() { echo "LMH-GUEST-READY ip=$ip_cidr mac=$mac"; }
garp() { arping -U -c 1 -I eth0 "$own_ip" >/dev/null 2>&1; }
if [ "$garp_on_boot" = 1 ] && [ -n "$own_ip" ] && command -v arping >/dev/null; then garp; fi
echo
ready
# From here on every kernel message reaches the console (boot stays quiet).
echo 8 > /proc/sys/kernel/printk
diag() {
  echo "diag clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) uptime=$(cut -d' ' -f1 /proc/uptime)"
  echo "diag net $(grep eth0 /proc/net/dev | tr -s ' ')"
  echo "diag link $(ip -o link show eth0 | sed 's/.*<\([^>]*\)>.*state \([A-Z]*\).*/<\1> \2/')"
  grep -E 'virtio|LOC|timer' /proc/interrupts | tr -s ' ' | sed 's/^/diag irq /'
  dmesg | tail -n 5 | sed 's/^/diag kmsg /'
}

# Command loop: PID 1 must never exit.
while true; do
  while read -r first rest; do
    seq=-
    case "$first" in
      *[!0-9]*|"") set -- $first $rest ;;
      *) seq=$first; set -- $rest ;;
    esac
    [ $# -eq 0 ] && continue
    cmd=$1; shift
    case "$cmd" in
      ping) ping -c "${2:-1}" -W 1 "$1"; rc=$? ;;
      arping) arping -c 1 -w 1 -I eth0 "$1"; rc=$? ;;
      garp) garp; rc=$? ;;
      ready) ready; rc=0 ;;
      ip) ip -o addr; ip -o link; rc=0 ;;
      diag) diag; rc=0 ;;
      *) echo "unknown command: $cmd"; rc=127 ;;
    esac
    echo "LMH-DONE $seq rc=$rc"
  done
  sleep 1
  exec </dev/ttyS0
done
EOF
chmod 755 "$root/init"

cp "$kroot/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9 -n) >"$out/initramfs.cpio.gz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "$kpkg" >"$out/kernel-package"
end=$(date +%s.%N)
echo "build-guest-image: $kpkg, initramfs $(wc -c <"$out/initramfs.cpio.gz") bytes, built in $(echo "$end - $start" | awk '{ printf "%.1f", $1 - $3 }') s" >&2
