# What the benchmarks share; sourced, from the project root, after setup.
work=${BENCH_DIR:-build/bench}
mkdir -p "$work"

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Wall-clock seconds a command takes, its output discarded.
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk "BEGIN{print $e - $s}"; }

# The path of the synthetic benchmark capture of PACKETS packets, generated
# (fixed seed) the first time it is asked for.
bench_capture() {
  local in="$work/bench-$1.pcap"
  if [ ! -f "$in" ]; then
    echo "generating $1 packets into $in" >&2
    python3 scripts/gen-bench-capture.py "$in" "$1"
  fi
  echo "$in"
}

# The path of a capture of PACKETS packets of FLOWS concurrent TCP
# connections for the stream benchmarks, generated (fixed seed) the first
# time it is asked for; with REORDER, that fraction of the data segments
# comes after the next one of its direction.
stream_capture() {
  local in="$work/streams-$1-$2${3:+-r$3}.pcap"
  if [ ! -f "$in" ]; then
    echo "generating $1 packets of $2 connections${3:+ ($3 reordered)} into $in" >&2
    python3 scripts/gen-stream-capture.py "$in" "$1" "$2" ${3:+"$3"}
  fi
  echo "$in"
}
