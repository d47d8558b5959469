#!/usr/bin/env bash
# Installs the Debian 12 packages that streamline needs to build, run and test,
# and any further packages named as arguments (a benchmark's peer, say).
# Idempotent: installs only what is missing, and runs apt-get update once.
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"

packages=(
  g++ meson ninja-build pkg-config   # build
  help2man                           # the apps' man pages, made from their --help
  libdpdk-dev dpdk dpdk-dev          # DPDK 22.11: libraries, PMDs, dpdk-devbind.py, dpdk-telemetry.py
  libpcap-dev                        # capture files and BPF compilation
  libfmt-dev libspdlog-dev           # formatting and logging
  nlohmann-json3-dev                 # --stats-json, and the tests that read it
  libgtest-dev                       # unit and integration tests
  clang libclang-rt-dev              # libFuzzer targets under ASan and UBSan (scripts/fuzz.sh)
  libhyperscan-dev                   # match and regex: multi-pattern search in payloads
  tcpdump                            # the oracle the tests compare against
  tshark                             # ... and Wireshark's reading of pcapng outputs
  tcpflow                            # ... and the bytes of reassembled TCP streams
  graphviz                           # the tests check that dot accepts --dot's graphs
  tcpreplay iproute2                 # sl-forward's tests: traffic through veth pairs in namespaces
  python3 python3-scapy              # scripts/make-samples.py
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
