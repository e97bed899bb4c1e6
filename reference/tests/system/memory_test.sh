#!/usr/bin/env bash
# Pushes and pulls a 1 GiB blob and checks that the server's peak resident memory grows by
# no more than a few MiB: bodies stream in both directions.
set -euo pipefail
DTR="$1"
LIMIT_MIB="${MEMORY_LIMIT_MIB:-16}"
source "$(dirname "$0")/../../../ci/lib.sh"
source "$(dirname "$0")/common.sh"
lib_init
lib_require_tools curl sha256sum

lib_start_dtr "$DTR" "$LIB_TMP/dtr" --no-access-log --auth none
url="http://127.0.0.1:$LIB_PORT"
pid="$LIB_PID"
rss() { awk "/^$1:/ {print \$2}" "/proc/$pid/status"; }

# Warm up the code paths with a small push and pull so the baseline includes them.
head -c 1000000 /dev/urandom >"$LIB_TMP/small"
d="$(push_blob "$url" mem/warm "$LIB_TMP/small")" || lib_die "warm-up push failed"
curl -sS -o /dev/null "$url/v2/mem/warm/blobs/$d"
base="$(rss VmRSS)"

head -c $((1024 * 1024 * 1024)) /dev/urandom >"$LIB_TMP/big"
digest="sha256:$(sha256sum "$LIB_TMP/big" | cut -d' ' -f1)"
# Streamed with chunked transfer coding, as skopeo sends compressed layers.
loc="$(curl -sS -o /dev/null -w '%header{location}' -X POST "$url/v2/mem/big/blobs/uploads/")"
loc="$(curl -sS -o /dev/null -w '%header{location}' -X PATCH -H 'Transfer-Encoding: chunked' \
  -T "$LIB_TMP/big" "$loc")"
code="$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$loc?digest=$digest")"
[ "$code" = 201 ] || lib_die "1 GiB push answered $code"
got="$(curl -sS "$url/v2/mem/big/blobs/$digest" | sha256sum | cut -d' ' -f1)"
[ "sha256:$got" = "$digest" ] || lib_die "1 GiB pull differs"
peak="$(rss VmHWM)"
growth=$(((peak - base) / 1024))
echo "memory test: baseline RSS $((base / 1024)) MiB, peak $((peak / 1024)) MiB, growth $growth MiB (limit $LIMIT_MIB MiB)"
[ "$growth" -le "$LIMIT_MIB" ] || lib_die "resident memory grew by $growth MiB during a 1 GiB push and pull"
