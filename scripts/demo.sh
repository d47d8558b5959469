#!/usr/bin/env bash
# Builds streamline and replays the bundled samples through config/demo.sl,
# then prints the per-node table. Outputs go to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
mkdir -p out/demo
echo "== sl-replay -c config/demo.sl -o out/demo pcap-samples/mixed.pcap"
./build/apps/sl-replay -c config/demo.sl -o out/demo --stats-json out/demo/stats.json pcap-samples/mixed.pcap
echo
echo "outputs in out/demo/:"
ls -l out/demo
