#!/usr/bin/env bash
# Builds streamline twice and runs every test in each build:
#   build-test      warnings as errors, optimised (what users run)
#   build-sanitize  the same tests under AddressSanitizer and UBSan
# then runs each libFuzzer target for a short while (scripts/fuzz.sh), which
# replays every input in fuzz/regressions/ first: each target is one case.
# Options after the script name go to `meson test` (e.g. a test name).
# The last line printed is "N passed, N failed", counted over test cases.
set -uo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

suites=()
cases_failed=0
run_suite() {
  local dir=$1; shift
  if ! scripts/build.sh "$dir" -Dwerror=true "$@"; then
    ninja -C "$dir" 2>&1 | tail -40
    cases_failed=$((cases_failed + 1))
    return
  fi
  rm -rf "$dir/test-results"
  mkdir -p "$dir/test-results"
  echo "== $dir"
  meson test -C "$dir" --print-errorlogs --num-processes 1 "${meson_args[@]}"
  suites+=("$dir")
}

meson_args=("$@")
run_suite build-test -Dbuildtype=debugoptimized
run_suite build-sanitize -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

# SL_FUZZ_SECONDS=0 leaves the fuzzers out (a quick run of one test, say).
fuzz_passed=0
if [ "${SL_FUZZ_SECONDS:-15}" != 0 ]; then
  echo "== fuzz"
  for target in capture parser language filters; do
    if scripts/fuzz.sh "$target" "${SL_FUZZ_SECONDS:-15}"; then
      fuzz_passed=$((fuzz_passed + 1))
    else
      cases_failed=$((cases_failed + 1))
    fi
  done
fi

python3 - "$cases_failed" "$fuzz_passed" "${suites[@]}" <<'PY'
import glob, json, os, re, sys
passed, failed = int(sys.argv[2]), int(sys.argv[1])
for d in sys.argv[3:]:
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
            if t["name"] not in with_xml:
                if t["result"] != "OK":
                    failed += 1
                else:
                    passed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
