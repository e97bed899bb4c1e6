# shellcheck shell=bash
# Shared parts of the bench/ scripts (auth-overhead, trust-get, gc, backends): the common
# flags, the build, starting `dtr serve`, reading dtr-bench's JSON, and the machine header.
# Servers are started and stopped with ci/lib.sh (free ports, stop by pid at exit,
# watchdogs), so every script here cleans up however it ends.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_parse_common "$@"   # sets BENCH_* from --quick/--full, --no-build, --build-dir,
#                             # --out, --keep; leaves the rest in BENCH_ARGS
#   bench_build               # dtr and dtr-bench in $BENCH_BIN
# shellcheck disable=SC2034  # BENCH_* are read by the scripts that source this

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../ci/lib.sh
source "$BENCH_ROOT/ci/lib.sh"

BENCH_MODE=quick
BENCH_BUILD=1
BENCH_BUILD_DIR="$BENCH_ROOT/build/release"
BENCH_BIN=""
BENCH_OUT=""
BENCH_ARGS=()

bench_die() {
  echo "${BENCH_NAME:-bench}: $*" >&2
  exit 2
}

# bench_parse_common ARGS...: the flags every script takes; the others go to BENCH_ARGS.
bench_parse_common() {
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --quick) BENCH_MODE=quick ;;
      --full) BENCH_MODE=full ;;
      --no-build) BENCH_BUILD=0 ;;
      --build-dir)
        [ "$#" -ge 2 ] || bench_die "--build-dir needs a directory"
        BENCH_BUILD_DIR="$(cd "$2" 2>/dev/null && pwd || echo "$2")"
        shift
        ;;
      --out)
        [ "$#" -ge 2 ] || bench_die "--out needs a file"
        BENCH_OUT="$2"
        shift
        ;;
      --keep) LIB_KEEP_TMP=1 ;;
      *) BENCH_ARGS+=("$1") ;;
    esac
    shift
  done
  BENCH_BIN="$BENCH_BUILD_DIR/bin"
}

# bench_build: builds dtr and dtr-bench with the release preset into $BENCH_BUILD_DIR
# (benchmarks of a debug build measure the compiler), unless --no-build.
bench_build() {
  if [ "$BENCH_BUILD" = 1 ]; then
    lib_log "building dtr and dtr-bench (release preset) in $BENCH_BUILD_DIR"
    (cd "$BENCH_ROOT" && cmake --preset release -B "$BENCH_BUILD_DIR" >/dev/null &&
      cmake --build "$BENCH_BUILD_DIR" --target dtr dtr-bench) >&2 ||
      bench_die "the build failed (output above); --no-build uses the binaries already built"
  fi
  local b
  for b in dtr dtr-bench; do
    [ -x "$BENCH_BIN/$b" ] || bench_die "$BENCH_BIN/$b is missing: build it (or drop --no-build)"
  done
}

bench_loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
BENCH_START_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
BENCH_START_LOAD="$(bench_loadavg)"

# bench_header TITLE: what ran where, for the report.
bench_header() {
  echo "$1"
  echo "  $BENCH_START_DATE, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load at start $BENCH_START_LOAD"
  echo "  dtr: $("$BENCH_BIN/dtr" version 2>/dev/null | head -1) ($BENCH_BIN), mode $BENCH_MODE"
}

# bench_json FILE JQ: a field of a dtr-bench JSON result, 0 when the file or field is missing.
bench_json() {
  if [ -s "$1" ]; then
    jq -r "($2) // 0" "$1"
  else
    echo 0
  fi
}

# bench_errors FILE: "" or a one-line summary of what went wrong in a dtr-bench run.
bench_errors() {
  [ -s "$1" ] || {
    echo "no result"
    return
  }
  jq -r 'if (.setup_error // .skipped) then "could not run: " + (.setup_error // .skipped)
         elif .errors.total > 0 then
           "errors: " + ([.errors.by_kind | to_entries[] | "\(.value) x \(.key)"] | join("; "))
         else empty end' "$1"
}

# bench_run NAME ARGS...: dtr-bench with ARGS, its JSON in $LIB_TMP/results/NAME.json and
# its output in NAME.out; says so on stderr when it could not run (exit 2 or more).
bench_run() {
  local name="$1" rc=0
  shift
  mkdir -p "$LIB_TMP/results"
  "$BENCH_BIN/dtr-bench" "$@" --json "$LIB_TMP/results/$name.json" --quiet \
    >"$LIB_TMP/results/$name.out" 2>&1 || rc=$?
  if [ "$rc" -ge 2 ]; then
    echo "${BENCH_NAME:-bench}: dtr-bench $name exited $rc:" >&2
    tail -n 5 "$LIB_TMP/results/$name.out" >&2
  fi
  return 0
}

# bench_finish FILE: prints the report FILE and copies it to --out.
bench_finish() {
  cat "$1"
  if [ -n "$BENCH_OUT" ]; then
    cp "$1" "$BENCH_OUT"
    lib_log "report written to $BENCH_OUT"
  fi
}

# bench_ratio A B: A/B with two decimals, or n/a.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# bench_mean VALUES...: their arithmetic mean.
bench_mean() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n; else print 0 }'; }

# bench_median VALUES...: their median.
bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) print 0; else if (NR % 2) printf "%.2f", v[(NR + 1) / 2];
    else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
