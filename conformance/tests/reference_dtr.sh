#!/usr/bin/env bash
# ctest `reference`: the reference registry must pass every case (issue 3). Starts
# `dtr serve --listen 127.0.0.1:PORT --data DIR --auth none`, runs dtr-conformance, stops it.
#   reference_dtr.sh SUITE_BIN DTR_BIN WORK_DIR
set -uo pipefail

suite="$1"
dtr="$2"
work="$3"
rm -rf "$work"
mkdir -p "$work/data"

pid=""
port=""
for _ in 1 2 3 4 5; do
  candidate=$((20000 + RANDOM % 20000))
  (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null && continue
  "$dtr" serve --listen "127.0.0.1:$candidate" --data "$work/data" --auth none --no-access-log \
    >"$work/dtr.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$candidate/v2/" 2>/dev/null)
    if [ "${code:-000}" != "000" ]; then
      port="$candidate"
      break
    fi
    sleep 0.1
  done
  [ -n "$port" ] && break
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=""
done
if [ -z "$port" ]; then
  echo "FAIL: dtr serve did not answer /v2/; its log:" >&2
  cat "$work/dtr.log" >&2
  exit 1
fi
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' EXIT

rc=0
"$suite" --url "http://127.0.0.1:$port" --timeout 30 --json "$work/report.json" || rc=$?
failed=$(jq -r '[.cases[] | select(.status == "fail")] | length' "$work/report.json" 2>/dev/null || echo "?")
if [ "$rc" -ne 0 ] || [ "$failed" != "0" ]; then
  echo "FAIL: against the reference dtr-conformance exited $rc with $failed failing cases" >&2
  exit 1
fi
echo "OK: the reference passes every case"
