#!/bin/sh
# Fails when a folder includes what its layer may not (DESIGN.md "Layers").
root=${1:-.}
bad=0
check() { # folder, forbidden-include-regex, why
  if grep -rnE "$2" "$root/$1" --include='*.h' --include='*.cpp' --include='*.c'; then
    echo "layering: $1 must not include these ($3)"; bad=1
  fi
}
check core '#include [<"](netlink/|pcap|libvirt/|openvswitch/|harness/|capture/|reports/)' \
  "core builds and unit-tests without root or system libraries"
check capture '#include [<"](core/|harness/|reports/)' "capture is independent of core"
check reports '#include [<"](core/|harness/|capture/)' "reports reads results only"
check faults '#include [<"](core/|harness/|capture/|reports/)' "faults is below core"
# nova's roles depend on their parts (core/nova_services.h), never on the
# Cloud that assembles them.
if grep -rnE '#include "core/cloud\.h"' "$root/core" --include='*.h' --include='*.cpp' | grep -v '/core/cloud\.cpp:'; then
  echo "layering: only core/cloud.cpp may include core/cloud.h in core (roles depend on NovaServices)"; bad=1
fi

# harness: one library whose sub-folders are layers, bottom to top
#   system <- ovs <- virt <- lab <- run
# each including only from the folders at or below it.
layers="system ovs virt lab run"
check harness/system '#include [<"]harness/(ovs|virt|lab|run)/' \
  "system is the bottom layer: kernel objects and processes"
check harness/ovs '#include [<"]harness/(virt|lab|run)/' "Open vSwitch sits on system only"
check harness/virt '#include [<"]harness/(lab|run)/' "libvirt and guests sit on system and ovs"
check harness/lab '#include [<"]harness/run/' \
  "the lab is built from a topology, not from a scenario or a run"
check harness '#include [<"][^">]*\.\./' \
  "include harness files by their path from the source root, so the checks above see them"
# Every source file picks a layer, and every sub-folder is a layer checked
# above.
for f in "$root"/harness/*; do
  name=${f##*/}
  if [ -d "$f" ]; then
    case " $layers " in
      *" $name "*) ;;
      *) echo "layering: harness/$name is not a layer ($layers); add it to tests/layering.sh"; bad=1 ;;
    esac
  else
    case "$name" in
      *.h|*.cpp|*.c) echo "layering: harness/$name must go into a layer sub-folder ($layers)"; bad=1 ;;
    esac
  fi
done
[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
