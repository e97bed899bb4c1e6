#!/usr/bin/env bash
# ctest `peer`: runs dtr-conformance against CNCF distribution 2.8 (Debian docker-registry,
# started by ci/start-distribution on 127.0.0.1) and checks that the set of failing cases
# is exactly the one recorded, with reasons, in fixtures/peers/distribution-2.8.expected.
#   peer_distribution.sh SUITE_BIN REPO_ROOT WORK_DIR
set -uo pipefail

suite="$1"
root="$2"
work="$3"
expected="$root/fixtures/peers/distribution-2.8.expected"

if ! command -v docker-registry >/dev/null 2>&1; then
  echo "FAIL: docker-registry is not installed; run ci/install-deps (it is started by ci/start-distribution)" >&2
  exit 1
fi
for tool in jq curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is not installed; run ci/install-deps" >&2; exit 1; }
done

rm -rf "$work"
mkdir -p "$work"
dist="$work/distribution"

# A free port: a few random tries, each one checked by starting the registry on it.
port=""
for _ in 1 2 3 4 5; do
  candidate=$((10240 + RANDOM % 22000))
  if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    continue  # something listens there
  fi
  if "$root/ci/start-distribution" "$candidate" "$dist"; then
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
"$suite" --url "http://127.0.0.1:$port" --timeout 30 --json "$work/report.json" \
  --junit "$work/report.xml" >"$work/run.txt" 2>"$work/run.err" || rc=$?
cat "$work/run.txt"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
  echo "FAIL: dtr-conformance exited $rc (not a verdict):" >&2
  cat "$work/run.err" >&2
  exit 1
fi

jq -r '.cases[] | select(.status == "fail") | .id' "$work/report.json" | sort >"$work/actual"
grep -v '^[[:space:]]*#' "$expected" | awk 'NF { print $1 }' | sort >"$work/want"

status=0
if ! diff -u "$work/want" "$work/actual" >"$work/diff"; then
  echo "FAIL: the failing cases differ from $expected (- recorded, + this run):" >&2
  cat "$work/diff" >&2
  status=1
fi
# The exit code follows from the levels: 1 when a MUST case is among the failures.
want_rc=0
if grep -v '^[[:space:]]*#' "$expected" | awk 'NF { print $2 }' | grep -qx MUST; then
  want_rc=1
fi
if [ "$rc" -ne "$want_rc" ]; then
  echo "FAIL: dtr-conformance exited $rc, the recorded failures mean $want_rc" >&2
  status=1
fi
# Levels in the file must match the suite's.
while read -r id level _; do
  got=$(jq -r --arg id "$id" '.cases[] | select(.id == $id) | .level' "$work/report.json")
  if [ -n "$got" ] && [ "$got" != "$level" ]; then
    echo "FAIL: $expected says $id is $level, the suite says $got" >&2
    status=1
  fi
done < <(grep -v '^[[:space:]]*#' "$expected" | awk 'NF')

[ "$status" -eq 0 ] && echo "OK: distribution 2.8 fails exactly the $(wc -l <"$work/want") recorded cases"
exit "$status"
