#!/usr/bin/env bash
# ctest `blackbox.peer.distribution-2.8`: dtr-fuzz for ~20 s against CNCF distribution 2.8
# (Debian docker-registry, started by ci/start-distribution on 127.0.0.1, no auth). Its
# findings are printed for the record, not failed: only a dtr-fuzz that cannot run (usage,
# unreachable) fails the test.
#   peer_distribution.sh DTR_FUZZ_BIN REPO_ROOT WORK_DIR [SECONDS]
set -uo pipefail

fuzz="$1"
root="$2"
work="$3"
secs="${4:-20}"

if ! command -v docker-registry >/dev/null 2>&1; then
  echo "FAIL: docker-registry is not installed; run ci/install-deps (it is started by ci/start-distribution)" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"
dist="$work/distribution"

port=""
for _ in 1 2 3 4 5; do
  candidate=$((10240 + RANDOM % 22000))
  (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null && continue
  if "$root/ci/start-distribution" "$candidate" "$dist" >/dev/null; then
    port="$candidate"
    break
  fi
done
if [ -z "$port" ]; then
  echo "FAIL: could not start docker-registry with ci/start-distribution" >&2
  exit 1
fi
trap '"$root/ci/stop-distribution" "$dist" >/dev/null' EXIT

rc=0
"$fuzz" --url "http://127.0.0.1:$port" --seconds "$secs" --seed 1 --timeout-ms 10000 \
  --out "$work/findings" >"$work/report.txt" 2>"$work/fuzz.log" || rc=$?
cat "$work/report.txt"
case "$rc" in
  0) echo "OK: no findings in distribution 2.8" ;;
  1) echo "OK (reported, not failed): distribution 2.8 findings are in $work/findings" ;;
  *) echo "FAIL: dtr-fuzz exited $rc:" >&2
     cat "$work/fuzz.log" >&2
     exit 1 ;;
esac
exit 0
