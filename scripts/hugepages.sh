#!/usr/bin/env bash
# Reserves or releases hugepages for sl-forward, with DPDK's dpdk-hugepages.py.
#   scripts/hugepages.sh reserve [SIZE]   reserve SIZE (default 2G) and mount hugetlbfs
#   scripts/hugepages.sh release          give the pages back and unmount
#   scripts/hugepages.sh show             what is reserved now
# Without hugepages the apps still run (--no-huge), but a NIC's DMA wants them.
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "$(id -u)" -ne 0 ]; then exec sudo "$0" "$@"; fi
case "${1:-show}" in
  reserve)
    size=${2:-2G}
    dpdk-hugepages.py --setup "$size"
    dpdk-hugepages.py --show
    ;;
  release)
    dpdk-hugepages.py --clear
    dpdk-hugepages.py --unmount
    dpdk-hugepages.py --show
    ;;
  show)
    dpdk-hugepages.py --show
    ;;
  *)
    echo "usage: $0 reserve [SIZE] | release | show" >&2
    exit 2
    ;;
esac
