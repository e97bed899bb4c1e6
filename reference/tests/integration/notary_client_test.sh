#!/usr/bin/env bash
# The real notary client (Debian's `notary`, CLI 0.7) against `dtr serve` over TLS, trusting
# the reference's CA (GET /ca): init, add, publish, list, lookup, verify, remove, a
# delegation (an openssl P-256 key and certificate: delegation add, key import, add --roles
# targets/releases), key rotate snapshot -r and timestamp -r, delete --remote. Every read
# goes through a fresh trust dir, so it reads back what the server has, not a cache.
# dtr runs with --auth none (the token flow on trust endpoints is tested in process, see
# reference/notary/server/trust_server_test.cc). With `remote-signer`, the signer runs as its
# own process (`dtr notary-signer`, mutual TLS) and dtr serve reaches it there.
#   notary_client_test.sh PATH/TO/dtr [remote-signer]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"

dtr_bin="${1:?usage: notary_client_test.sh PATH/TO/dtr [remote-signer]}"
mode="${2:-}"
lib_require_tools notary openssl curl jq sha256sum
lib_init
T="$LIB_TMP"

export DTR_SIGNER_PASSPHRASE="signer-$RANDOM$RANDOM"
export NOTARY_ROOT_PASSPHRASE=it-root NOTARY_TARGETS_PASSPHRASE=it-targets
export NOTARY_SNAPSHOT_PASSPHRASE=it-snapshot NOTARY_DELEGATION_PASSPHRASE=it-delegation

if [ "$mode" = remote-signer ]; then
  signer_port="$(lib_free_port)"
  mkdir -p "$T/signer"
  "$dtr_bin" notary-signer --listen "127.0.0.1:$signer_port" --data "$T/signer/data" \
    </dev/null >"$T/signer/signer.log" 2>&1 &
  signer_pid=$!
  lib_on_exit "lib_stop_pid $signer_pid '$T/signer/data'"
  lib_watchdog "$signer_pid" "$T/signer/data"
  for _ in $(seq 1 100); do
    grep -q "ready" "$T/signer/signer.log" 2>/dev/null && break
    kill -0 "$signer_pid" 2>/dev/null || { cat "$T/signer/signer.log" >&2; lib_die "dtr notary-signer exited"; }
    sleep 0.1
  done
  grep -q "ready" "$T/signer/signer.log" || lib_die "dtr notary-signer did not start"
  export DTR_NOTARY_SIGNER="https://127.0.0.1:$signer_port"
  export DTR_NOTARY_SIGNER_CA="$T/signer/data/ca/ca.pem"
  export DTR_NOTARY_SIGNER_CERT="$T/signer/data/client.pem"
  export DTR_NOTARY_SIGNER_KEY="$T/signer/data/client-key.pem"
  lib_log "dtr notary-signer (pid $signer_pid) on 127.0.0.1:$signer_port"
fi

tls_port="$(lib_free_port)"
lib_start_dtr "$dtr_bin" "$T/dtr" --auth none --tls-listen "127.0.0.1:$tls_port"
curl -fsS "http://127.0.0.1:$LIB_PORT/ca" -o "$T/ca.pem" || lib_die "GET /ca failed"
server="https://127.0.0.1:$tls_port"
for _ in $(seq 1 100); do
  curl -sS --cacert "$T/ca.pem" -o /dev/null --max-time 1 "$server/v2/" 2>/dev/null && break
  sleep 0.1
done
curl -sS --cacert "$T/ca.pem" -o /dev/null --max-time 2 "$server/v2/" ||
  lib_die "no HTTPS on $server with the reference's CA"
gun="127.0.0.1:$tls_port/admin/app"

trust="$T/trust"
n() { # n ARGS...: the publisher's client (its trust dir persists)
  notary -s "$server" --tlscacert "$T/ca.pem" -d "$trust" "$@" >"$T/notary.out" 2>&1 || {
    cat "$T/notary.out" >&2
    lib_die "notary $* failed"
  }
  cat "$T/notary.out"
}
fresh() { # fresh ARGS...: a client with an empty trust dir, reading only from the server
  local dir
  dir="$(mktemp -d "$T/fresh.XXXXXX")"  # not a counter: $(fresh ...) runs in a subshell
  notary -s "$server" --tlscacert "$T/ca.pem" -d "$dir" "$@"
}
expect_has() { grep -qF -- "$2" <<<"$1" || lib_die "$3: '$2' not in: $1"; }
expect_lacks() { if grep -qF -- "$2" <<<"$1"; then lib_die "$3: '$2' unexpectedly in: $1"; fi; }

printf 'first manifest %s' "$RANDOM" >"$T/v1"
printf 'second manifest %s' "$RANDOM" >"$T/v2"
printf 'third manifest %s' "$RANDOM" >"$T/v3"
sha() { sha256sum "$1" | cut -d' ' -f1; }

lib_log "init, add, publish"
n init "$gun" >/dev/null
n add "$gun" v1 "$T/v1" >/dev/null
n publish "$gun" >/dev/null
out="$(fresh list "$gun")"
expect_has "$out" "$(sha "$T/v1")" "list after the first publish"
out="$(fresh lookup "$gun" v1)"
expect_has "$out" "$(sha "$T/v1")" "lookup v1"
expect_has "$out" "$(stat -c %s "$T/v1")" "lookup v1 size"
fresh verify "$gun" v1 -q -i "$T/v1" || lib_die "verify v1 refused the published content"
if fresh verify "$gun" v1 -q -i "$T/v2" >/dev/null 2>&1; then lib_die "verify v1 accepted other content"; fi
code="$(curl -sS --cacert "$T/ca.pem" -o /dev/null -D "$T/h" -w '%{http_code}' "$server/v2/$gun/_trust/tuf/root.json")"
[ "$code" = 200 ] || lib_die "GET root.json gave $code"
grep -qi '^cache-control: public, max-age=300, s-maxage=300, must-revalidate' "$T/h" ||
  lib_die "root.json lacks notary's Cache-Control: $(cat "$T/h")"

lib_log "add v2, remove v1, publish"
n add "$gun" v2 "$T/v2" >/dev/null
n remove "$gun" v1 >/dev/null
n publish "$gun" >/dev/null
out="$(fresh list "$gun")"
expect_has "$out" "$(sha "$T/v2")" "list after remove"
expect_lacks "$out" "$(sha "$T/v1")" "list after remove"

lib_log "delegation targets/releases with an openssl key"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/releases-key.pem" 2>/dev/null
openssl req -new -x509 -key "$T/releases-key.pem" -out "$T/releases.crt" -days 365 \
  -subj "/CN=releases" 2>/dev/null
n delegation add "$gun" targets/releases "$T/releases.crt" --all-paths >/dev/null
n publish "$gun" >/dev/null
n key import "$T/releases-key.pem" -r targets/releases >/dev/null
n add "$gun" v3 "$T/v3" --roles targets/releases >/dev/null
n publish "$gun" >/dev/null
out="$(fresh list "$gun")"
expect_has "$out" "$(sha "$T/v3")" "list after the delegated publish"
expect_has "$(grep -F "$(sha "$T/v3")" <<<"$out")" "targets/releases" "v3's role"
out="$(fresh delegation list "$gun")"
expect_has "$out" "targets/releases" "delegation list"

lib_log "key rotate snapshot -r, timestamp -r"
old_ts="$(curl -fsS --cacert "$T/ca.pem" "$server/v2/$gun/_trust/tuf/root.json" | jq -r '.signed.roles.timestamp.keyids[0]')"
n key rotate "$gun" snapshot -r >/dev/null
n key rotate "$gun" timestamp -r >/dev/null
root="$(curl -fsS --cacert "$T/ca.pem" "$server/v2/$gun/_trust/tuf/root.json")"
new_ts="$(jq -r '.signed.roles.timestamp.keyids[0]' <<<"$root")"
[ "$new_ts" != "$old_ts" ] || lib_die "the timestamp key did not change"
snap_key="$(curl -fsS --cacert "$T/ca.pem" "$server/v2/$gun/_trust/tuf/snapshot.key" | jq -r '.keyval.public')"
[ "$(jq -r --arg id "$(jq -r '.signed.roles.snapshot.keyids[0]' <<<"$root")" '.signed.keys[$id].keyval.public' <<<"$root")" = "$snap_key" ] ||
  lib_die "root.json does not name the server's snapshot key"
printf 'after rotation %s' "$RANDOM" >"$T/v4"
n add "$gun" v4 "$T/v4" >/dev/null
n publish "$gun" >/dev/null
out="$(fresh list "$gun")"
expect_has "$out" "$(sha "$T/v4")" "list after the rotations"
expect_has "$out" "$(sha "$T/v3")" "list after the rotations (delegated target)"

lib_log "changefeed"
feed="$(curl -fsS --cacert "$T/ca.pem" "$server/v2/$gun/_trust/changefeed?records=100&change_id=0")"
[ "$(jq '.count' <<<"$feed")" -ge 6 ] || lib_die "changefeed too short: $feed"

lib_log "delete --remote"
n delete "$gun" --remote >/dev/null
code="$(curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' "$server/v2/$gun/_trust/tuf/root.json")"
[ "$code" = 404 ] || lib_die "root.json still served after delete --remote ($code)"
if fresh list "$gun" >/dev/null 2>&1; then lib_die "a fresh client still lists $gun"; fi
# The GUN can be initialised again from scratch.
rm -rf "$trust"
n init "$gun" >/dev/null
n add "$gun" again "$T/v1" >/dev/null
n publish "$gun" >/dev/null
expect_has "$(fresh list "$gun")" "$(sha "$T/v1")" "list after re-init"

lib_log "DTR's tag API reports signatures (inNotary, hashMismatch) and protects signed content"
api="http://127.0.0.1:$LIB_PORT"
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"name":"app","visibility":"private"}' \
  "$api/api/v0/repositories/admin" -o /dev/null || lib_die "POST /api/v0/repositories/admin failed"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"n":%s}' \
  "$RANDOM" >"$T/config.json"
cfg_digest="sha256:$(sha "$T/config.json")"
curl -fsS -X POST -H 'Content-Type: application/octet-stream' --data-binary @"$T/config.json" \
  "$api/v2/admin/app/blobs/uploads/?digest=$cfg_digest" -o /dev/null || lib_die "config upload failed"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[]}' \
  "$cfg_digest" "$(stat -c %s "$T/config.json")" >"$T/manifest.json"
for tag in signed mismatched unsigned; do
  curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary @"$T/manifest.json" "$api/v2/admin/app/manifests/$tag" -o /dev/null ||
    lib_die "manifest PUT $tag failed"
done
n add "$gun" signed "$T/manifest.json" >/dev/null  # the manifest's bytes: the same digest
n add "$gun" mismatched "$T/v2" >/dev/null         # other content under the tag's name
n publish "$gun" >/dev/null
tags="$(curl -fsS "$api/api/v0/repositories/admin/app/tags")"
flags() { jq -c --arg t "$1" '[.[] | select(.name == $t) | .inNotary, .hashMismatch]' <<<"$tags"; }
[ "$(flags signed)" = '[true,false]' ] || lib_die "tag 'signed': want inNotary, no mismatch: $tags"
[ "$(flags mismatched)" = '[true,true]' ] || lib_die "tag 'mismatched': want a hash mismatch: $tags"
[ "$(flags unsigned)" = '[false,false]' ] || lib_die "tag 'unsigned' is not in Notary: $tags"
one="$(curl -fsS "$api/api/v0/repositories/admin/app/tags/signed?domain=127.0.0.1:$tls_port")"
[ "$(jq -c '[.[0].inNotary]' <<<"$one")" = '[true]' ] || lib_die "?domain= of the GUN: $one"
one="$(curl -fsS "$api/api/v0/repositories/admin/app/tags/signed?domain=other.example.com")"
[ "$(jq -c '[.[0].inNotary]' <<<"$one")" = '[false]' ] || lib_die "?domain= of another host: $one"
code="$(curl -sS -o "$T/body" -w '%{http_code}' -X DELETE "$api/api/v0/repositories/admin/app/tags/signed")"
[ "$code" = 409 ] && jq -e '.errors[0].code == "TAG_IN_NOTARY"' "$T/body" >/dev/null ||
  lib_die "deleting a signed tag gave $code: $(cat "$T/body")"
code="$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$api/api/v0/repositories/admin/app/tags/unsigned")"
[ "$code" = 204 ] || lib_die "deleting an unsigned tag gave $code"
code="$(curl -sS -o "$T/body" -w '%{http_code}' -X DELETE "$api/api/v0/repositories/admin/app")"
[ "$code" = 405 ] && jq -e '.errors[0].code == "REPOSITORY_CONTAINS_TAGS_IN_NOTARY"' "$T/body" >/dev/null ||
  lib_die "deleting a repository with trust data gave $code: $(cat "$T/body")"
curl -fsS -o /dev/null "$api/v2/admin/app/manifests/signed" || lib_die "the refused delete lost content"
n delete "$gun" --remote >/dev/null
code="$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$api/api/v0/repositories/admin/app")"
[ "$code" = 204 ] || lib_die "deleting the repository after delete --remote gave $code"

if [ "$mode" = remote-signer ]; then
  # The server-managed keys are the signer's: none in dtr serve's data directory.
  [ ! -e "$T/dtr/data/notary-signer/signer.db" ] || lib_die "dtr serve kept keys of its own"
  [ -s "$T/signer/data/signer.db" ] || lib_die "the signer stored no keys"
  grep -q "notary-signer: key" "$T/signer/signer.log" || lib_die "the signer made no keys"
fi
lib_log "ok: the notary client works against dtr serve${mode:+ ($mode)}"
