#!/usr/bin/env bash
# ctest `reference`: the reference registry must pass every case (issue 3). Two runs, each
# against its own `dtr serve --listen 127.0.0.1:PORT --data DIR`:
#   1. --auth none: the whole default (oci) profile, i.e. the `registry` group (the `auth`
#      cases see no token auth there and skip);
#   2. token auth (the default) with an `admin` account made from DTR_ADMIN_PASSWORD and
#      createRepositoryOnPush turned on through /api/v0/meta/settings: --profile dtr --user
#      admin --password ..., every group (registry through the token flow, auth, api, and
#      trust: notary's endpoints on GUNs 127.0.0.1:PORT/conformance/..., which that setting
#      lets admin create).
# Every case must pass or skip; the credentialed run must not skip for want of credentials,
# and every trust case must pass there (a trust case skips only when its setup is refused).
# The token run also passes --destructive, and every `jobs` case (onlinegc included) must
# pass there.
#   reference_dtr.sh SUITE_BIN DTR_BIN WORK_DIR
set -uo pipefail

suite="$1"
dtr="$2"
work="$3"
rm -rf "$work"
mkdir -p "$work"

# shellcheck source-path=SCRIPTDIR source=../../ci/lib.sh
source "$(dirname "$0")/../../ci/lib.sh"
pids=()
# stop_all: stops every dtr; a sanitizer report in any of their logs (asan preset) fails the
# test, however the suite itself did.
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  lib_sanitizer_reports "$work" || exit 1
}
trap stop_all EXIT

# start_dtr NAME [serve flags...]: starts dtr serve on a free port with data in
# $work/NAME; sets $port, or exits 1 with its log.
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

# check NAME RC: every case passed or skipped, and (with credentials) none skipped for the
# want of them.
check() {
  local name="$1" rc="$2" report="$work/$1/report.json"
  local failed skipped_creds
  failed=$(jq -r '[.cases[] | select(.status == "fail")] | length' "$report" 2>/dev/null || echo "?")
  skipped_creds=$(jq -r '[.cases[] | select(.status == "skip") | select((.reason // "") | test("needs --user"))] | length' \
    "$report" 2>/dev/null || echo "?")
  if [ "$rc" -ne 0 ] || [ "$failed" != "0" ]; then
    echo "FAIL: $name: dtr-conformance exited $rc with $failed failing cases" >&2
    return 1
  fi
  if [ "$name" = "token" ] && [ "$skipped_creds" != "0" ]; then
    echo "FAIL: $name: $skipped_creds cases skipped for want of credentials" >&2
    return 1
  fi
  if [ "$name" = "token" ]; then
    local trust_total trust_passed
    trust_total=$(jq -r '[.cases[] | select(.group == "trust")] | length' "$report" 2>/dev/null || echo "?")
    trust_passed=$(jq -r '[.cases[] | select(.group == "trust") | select(.status == "pass")] | length' \
      "$report" 2>/dev/null || echo "?")
    if [ "$trust_total" = "0" ] || [ "$trust_total" != "$trust_passed" ]; then
      echo "FAIL: $name: $trust_passed of $trust_total trust cases passed" >&2
      return 1
    fi
    local jobs_total jobs_passed
    jobs_total=$(jq -r '[.cases[] | select(.group == "jobs")] | length' "$report" 2>/dev/null || echo "?")
    jobs_passed=$(jq -r '[.cases[] | select(.group == "jobs") | select(.status == "pass")] | length' \
      "$report" 2>/dev/null || echo "?")
    if [ "$jobs_total" = "0" ] || [ "$jobs_total" != "$jobs_passed" ]; then
      echo "FAIL: $name: $jobs_passed of $jobs_total jobs cases passed" >&2
      return 1
    fi
  fi
  return 0
}

status=0

start_dtr none --auth none
rc=0
"$suite" --url "http://127.0.0.1:$port" --timeout 30 --json "$work/none/report.json" || rc=$?
check none "$rc" || status=1

password="conformance-$RANDOM$RANDOM"
export DTR_ADMIN_PASSWORD="$password"
start_dtr token
unset DTR_ADMIN_PASSWORD
# Docker clients push to repositories that do not exist yet: let them (DTR's default is off).
code=$(curl -s -o "$work/token/settings.out" -w '%{http_code}' -u "admin:$password" -X POST \
  -H 'Content-Type: application/json' -d '{"createRepositoryOnPush":true}' \
  "http://127.0.0.1:$port/api/v0/meta/settings")
case "$code" in
  2??) ;;
  *) echo "FAIL: enabling createRepositoryOnPush gave $code: $(cat "$work/token/settings.out")" >&2
     exit 1 ;;
esac
rc=0
# --destructive: the `jobs` group's onlinegc case runs here (a scratch registry).
"$suite" --url "http://127.0.0.1:$port" --timeout 30 --profile dtr --destructive \
  --user admin --password "$password" --json "$work/token/report.json" || rc=$?
check token "$rc" || status=1

if [ "$status" -ne 0 ]; then
  exit 1
fi
echo "OK: the reference passes every case (registry without auth; every group with token auth)"
