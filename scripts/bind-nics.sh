#!/usr/bin/env bash
# Hands NICs to DPDK (vfio-pci) and gives them back, with dpdk-devbind.py.
#   scripts/bind-nics.sh list                    network devices and their drivers
#   scripts/bind-nics.sh bind PCI [PCI...]       bind to vfio-pci (loads the module)
#   scripts/bind-nics.sh unbind PCI [PCI...]     give back to the kernel driver it had
# PCI addresses look like 0000:3b:00.0 (see `list`). A bound NIC disappears
# from the kernel: do not bind the interface you are logged in through.
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "$(id -u)" -ne 0 ]; then exec sudo "$0" "$@"; fi
state_dir=/var/lib/streamline
mkdir -p "$state_dir"

kernel_driver() {  # the driver the kernel would use, from the device's modalias
  local dev=/sys/bus/pci/devices/$1
  if [ -e "$dev/driver" ]; then basename "$(readlink "$dev/driver")"; return; fi
  modprobe -R "$(cat "$dev/modalias")" 2>/dev/null | head -1
}

case "${1:-list}" in
  list)
    dpdk-devbind.py --status-dev net
    ;;
  bind)
    shift
    [ $# -gt 0 ] || { echo "bind: give PCI addresses (see: $0 list)" >&2; exit 2; }
    for pci in "$@"; do
      [ -e "/sys/bus/pci/devices/$pci" ] || { echo "bind: no PCI device $pci (see: $0 list)" >&2; exit 1; }
    done
    command -v modprobe >/dev/null || { echo "bind: modprobe is missing (apt-get install kmod)" >&2; exit 1; }
    modprobe vfio-pci
    for pci in "$@"; do
      driver=$(kernel_driver "$pci")
      [ "$driver" = vfio-pci ] || echo "$driver" >"$state_dir/$pci.driver"
      dpdk-devbind.py --bind=vfio-pci "$pci"
    done
    dpdk-devbind.py --status-dev net
    ;;
  unbind)
    shift
    [ $# -gt 0 ] || { echo "unbind: give PCI addresses (see: $0 list)" >&2; exit 2; }
    for pci in "$@"; do
      if [ -f "$state_dir/$pci.driver" ]; then
        dpdk-devbind.py --bind="$(cat "$state_dir/$pci.driver")" "$pci"
        rm -f "$state_dir/$pci.driver"
      else
        echo "unbind: $pci was not bound by this script; unbinding it from vfio-pci only" >&2
        dpdk-devbind.py --unbind "$pci"
      fi
    done
    dpdk-devbind.py --status-dev net
    ;;
  *)
    echo "usage: $0 list | bind PCI... | unbind PCI..." >&2
    exit 2
    ;;
esac
