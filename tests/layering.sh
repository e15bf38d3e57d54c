#!/bin/sh
# Fails when a folder includes what its layer may not (DESIGN.md "Layers").
root=${1:-.}
bad=0
check() { # folder, forbidden-include-regex, why
  if grep -rnE "$2" "$root/$1" --include='*.h' --include='*.cpp'; then
    echo "layering: $1 must not include these ($3)"; bad=1
  fi
}
check core '#include [<"](netlink/|pcap|libvirt/|openvswitch/|harness/|capture/|reports/)' \
  "core builds and unit-tests without root or system libraries"
check capture '#include [<"](core/|harness/|reports/)' "capture is independent of core"
check reports '#include [<"](core/|harness/|capture/)' "reports reads results only"
check faults '#include [<"](core/|harness/|capture/|reports/)' "faults is below core"
[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
