#!/usr/bin/env bash
# ctest `blackbox.reference`: dtr-fuzz for ~20 s against the reference, twice, each against
# its own `dtr serve --listen 127.0.0.1:PORT --data DIR`: once with --auth none, once with
# token auth as the `admin` made from DTR_ADMIN_PASSWORD (which also arms the oracle for a
# private repository). Any finding fails the test; the replay files are printed.
#   reference.sh DTR_FUZZ_BIN DTR_BIN WORK_DIR [SECONDS]
set -uo pipefail

fuzz="$1"
dtr="$2"
work="$3"
secs="${4:-20}"
rm -rf "$work"
mkdir -p "$work"

# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$(dirname "$0")/../../../ci/lib.sh"
pids=()
# stop_all: stops every dtr; a sanitizer report in any of their logs (asan preset) fails the
# test, however the suite itself did.
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  lib_sanitizer_reports "$work" || exit 1
}
trap stop_all EXIT

# start_dtr NAME [serve flags...]: starts dtr serve on a free port; sets $port.
start_dtr() {
  local name="$1"
  shift
  mkdir -p "$work/$name/data"
  port=""
  for _ in 1 2 3 4 5; do
    local candidate=$((10240 + RANDOM % 22000))
    (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null && continue
    "$dtr" serve --listen "127.0.0.1:$candidate" --data "$work/$name/data" --no-access-log "$@" \
      >"$work/$name/dtr.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$candidate/v2/" 2>/dev/null)
      if [ "${code:-000}" != "000" ]; then
        port="$candidate"
        break
      fi
      sleep 0.1
    done
    if [ -n "$port" ]; then
      pids+=("$pid")
      return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  echo "FAIL: dtr serve ($name) did not answer /v2/; its log:" >&2
  cat "$work/$name/dtr.log" >&2
  exit 1
}

# run NAME [dtr-fuzz flags...]: one run; prints its report and every finding file.
run() {
  local name="$1" rc=0
  shift
  "$fuzz" --url "http://127.0.0.1:$port" --seconds "$secs" --seed 1 --timeout-ms 10000 \
    --out "$work/$name/findings" "$@" >"$work/$name/report.txt" 2>"$work/$name/fuzz.log" || rc=$?
  echo "== $name (dtr-fuzz exited $rc)"
  cat "$work/$name/report.txt"
  if [ "$rc" -ne 0 ]; then
    for f in "$work/$name/findings"/*.req; do
      [ -f "$f" ] || continue
      echo "--- $f"
      cat "$f"
    done
    echo "--- server log (errors):"
    grep -v ' info ' "$work/$name/dtr.log" | tail -20
    return 1
  fi
  return 0
}

status=0
start_dtr none --auth none
run none || status=1

password="fuzz-$RANDOM$RANDOM"
export DTR_ADMIN_PASSWORD="$password"
start_dtr token
unset DTR_ADMIN_PASSWORD
run token --user admin --password "$password" || status=1

if [ "$status" -ne 0 ]; then
  echo "FAIL: dtr-fuzz found problems in the reference (replay: dtr-fuzz --url URL --replay FILE)"
  exit 1
fi
echo "OK: dtr-fuzz found nothing in the reference (no auth; token auth with a private repository)"
