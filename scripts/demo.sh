#!/usr/bin/env bash
# Builds streamline and replays the bundled samples through config/demo.sl,
# then prints the per-node table. Outputs go to out/demo/.
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
echo "== checking the Debian packages streamline needs (scripts/setup.sh; installs what is missing)"
scripts/setup.sh
if [ -f build/build.ninja ]; then
  echo "== bringing build/ up to date (meson + ninja)"
else
  echo "== building into build/ (meson + ninja; a few minutes on the first run)"
fi
scripts/build.sh build
mkdir -p out/demo
echo "== sl-replay -c config/demo.sl -o out/demo pcap-samples/mixed.pcap"
./build/apps/sl-replay -c config/demo.sl -o out/demo --stats-json out/demo/stats.json pcap-samples/mixed.pcap
echo
echo "outputs in out/demo/:"
ls -l out/demo
