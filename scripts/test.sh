#!/usr/bin/env bash
# Builds streamline with warnings as errors and runs every test. The last line
# printed is "N passed, N failed", counted over individual test cases.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
dir=build-test
if ! scripts/build.sh "$dir" -Dwerror=true -Dbuildtype=debugoptimized; then
  ninja -C "$dir" 2>&1 | tail -40
  echo "0 passed, 1 failed"
  exit 1
fi
rm -rf "$dir/test-results"
mkdir -p "$dir/test-results"
meson test -C "$dir" --print-errorlogs --num-processes 1 "$@"
python3 - "$dir" <<'PY'
import glob, json, os, re, sys
d = sys.argv[1]
passed = failed = 0
with_xml = set()
for path in glob.glob(os.path.join(d, "test-results", "*.xml")):
    text = open(path, errors="replace").read()
    m = re.search(r'<testsuites tests="(\d+)" failures="(\d+)" disabled="(\d+)" errors="(\d+)"', text)
    if not m:
        continue
    tests, failures, disabled, errors = map(int, m.groups())
    skipped = len(re.findall(r'<skipped', text))
    failed += failures + errors
    passed += tests - failures - errors - disabled - skipped
    with_xml.add(os.path.splitext(os.path.basename(path))[0])
# A test program that crashed before writing its report counts as one failure.
log = os.path.join(d, "meson-logs", "testlog.json")
if os.path.exists(log):
    for line in open(log):
        t = json.loads(line)
        if t["name"] not in with_xml and t["result"] != "OK":
            failed += 1
        elif t["name"] not in with_xml:
            passed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
