#!/usr/bin/env bash
# Storage as a setting (DTR's PUT /api/v0/admin/settings/registry/simple): dtr serve starts
# on the filesystem; an admin switches it to S3 (s3rver, started here) while it runs; new
# pushes land in the bucket; GET answers never carry the secret key, and sending it back as
# "<redacted>" keeps it; a backend that cannot be reached is refused with INVALID_SETTINGS
# and nothing changes; non-admins are refused; after a restart the stored choice holds.
#   storage_settings_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
ci="$(cd "$here/../../../ci" && pwd)"

dtr_bin="${1:?usage: storage_settings_test.sh PATH/TO/dtr}"
lib_require_tools jq curl node sha256sum
lib_init
T="$LIB_TMP"

s3_port="$(lib_free_port)"
S3RVER_BUCKETS="registry" "$ci/start-s3rver" "$T/s3rver" "$s3_port" >&2 ||
  lib_die "ci/start-s3rver could not start s3rver on 127.0.0.1:$s3_port"
lib_on_exit "'$ci/stop-s3rver' '$T/s3rver' >/dev/null 2>&1 || true"
# shellcheck disable=SC1091
source "$T/s3rver/env"
# s3rver checks no signatures: any secret works, and a distinctive one shows if it leaks.
S3_SECRET_KEY="secret-$RANDOM$RANDOM$RANDOM"

export DTR_ADMIN_PASSWORD="admin-$RANDOM$RANDOM"
admin="admin:$DTR_ADMIN_PASSWORD"
lib_start_dtr "$dtr_bin" "$T/dtr"
api="http://127.0.0.1:$LIB_PORT"

call() { # call USER:PW METHOD PATH [BODY] -> prints "CODE BODY"
  local code
  code="$(curl -sS -u "$1" -X "$2" -H 'Content-Type: application/json' ${4:+--data-binary "$4"} \
    -o "$T/body" -w '%{http_code}' "$api$3")"
  echo "$code $(cat "$T/body")"
}
expect_code() { # expect_code WANT "CODE BODY" WHAT
  [ "${2%% *}" = "$1" ] || lib_die "$3: want $1, got: $2"
}
# push_blob REPO CONTENT: a monolithic blob upload as admin (Basic auth works on /v2/ too).
push_blob() {
  local d code
  printf '%s' "$2" >"$T/blob"
  d="sha256:$(sha256sum "$T/blob" | cut -d' ' -f1)"
  code="$(curl -sS -u "$admin" -o "$T/push.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/octet-stream' --data-binary @"$T/blob" \
    "$api/v2/$1/blobs/uploads/?digest=$d")"
  [ "$code" = 201 ] || lib_die "blob push to $1 gave $code: $(cat "$T/push.out")"
  echo "$d"
}
blob_code() { curl -sS -u "$admin" -o /dev/null -w '%{http_code}' "$api/v2/$1/blobs/$2"; }

expect_code 201 "$(call "$admin" POST /api/v0/repositories/admin '{"name":"moving"}')" "repo create"

lib_log "on the filesystem first"
r="$(call "$admin" GET /api/v0/meta/settings)"
expect_code 200 "$r" "meta/settings"
[ "$(jq -r .storageBackend <<<"${r#* }")" = filesystem ] || lib_die "backend is not filesystem: $r"
fs_blob="$(push_blob admin/moving "on the filesystem $RANDOM$RANDOM")"

lib_log "a backend that cannot be reached is refused, and nothing changes"
bad="$(jq -cn --arg ep "http://127.0.0.1:$(lib_free_port)" '{storage: {s3: {
  accesskey: "K", secretkey: "S", region: "us-east-1", regionendpoint: $ep, bucket: "registry",
  secure: "false", requesttimeout: "2s", maxretries: "0"}}}')"
r="$(call "$admin" PUT /api/v0/admin/settings/registry/simple "$bad")"
expect_code 400 "$r" "an unreachable backend"
[ "$(jq -r '.errors[0].code' <<<"${r#* }")" = INVALID_SETTINGS ] || lib_die "error code: $r"
r="$(call "$admin" GET /api/v0/admin/settings/registry/simple)"
[ "$(jq -r '.storage | has("filesystem")' <<<"${r#* }")" = true ] || lib_die "storage changed: $r"
[ "$(blob_code admin/moving "$fs_blob")" = 200 ] || lib_die "the filesystem blob is gone"
r="$(call "$admin" PUT /api/v0/admin/settings/registry/simple '{"storage":{"tape":{}}}')"
expect_code 400 "$r" "an unknown driver"
r="$(call "$admin" PUT /api/v0/admin/settings/registry/simple '{"storage":"s3"}')"
expect_code 400 "$r" "a malformed body"

lib_log "non-admins are refused"
expect_code 201 "$(call "$admin" POST /enzi/v0/accounts '{"name":"carol","password":"carol-password-1"}')" "user"
expect_code 403 "$(call carol:carol-password-1 PUT /api/v0/admin/settings/registry/simple "$bad")" "carol's PUT"
expect_code 403 "$(call carol:carol-password-1 GET /api/v0/admin/settings/registry/simple)" "carol's GET"

lib_log "switch to S3 while running"
good="$(jq -cn --arg ep "$S3_ENDPOINT" --arg ak "$S3_ACCESS_KEY" --arg sk "$S3_SECRET_KEY" \
  '{storage: {delete: {enabled: true}, s3: {accesskey: $ak, secretkey: $sk, region: "us-east-1",
    regionendpoint: $ep, bucket: "registry", rootdirectory: "/moved", secure: false}}}')"
r="$(call "$admin" PUT /api/v0/admin/settings/registry/simple "$good")"
expect_code 202 "$r" "the switch to S3"
[ "$(jq -r .storage.s3.secretkey <<<"${r#* }")" = "<redacted>" ] || lib_die "the reply shows the secret: $r"
r="$(call "$admin" GET /api/v0/meta/settings)"
[ "$(jq -r .storageBackend <<<"${r#* }")" = s3 ] || lib_die "meta/settings backend: $r"
grep -qF "$S3_SECRET_KEY" <<<"${r#* }" && lib_die "meta/settings shows the secret: $r"
s3_blob="$(push_blob admin/moving "in the bucket $RANDOM$RANDOM")"
[ "$(blob_code admin/moving "$s3_blob")" = 200 ] || lib_die "the S3 blob does not read back"
# s3rver keeps objects as files named after their keys, under DIR/data/<bucket>.
find "$T/s3rver/data" -path "*moved/docker/registry/v2/blobs/sha256/*/${s3_blob#sha256:}/data*" |
  grep -q . || lib_die "the new blob is not in the bucket"

lib_log "the secret sent back as <redacted> keeps its value"
again="$(call "$admin" GET /api/v0/admin/settings/registry/simple)"
r="$(call "$admin" PUT /api/v0/admin/settings/registry/simple "${again#* }")"
expect_code 202 "$r" "PUT of what GET gave"
s3_blob2="$(push_blob admin/moving "still in the bucket $RANDOM$RANDOM")"
[ "$(blob_code admin/moving "$s3_blob2")" = 200 ] || lib_die "S3 stopped working after the round trip"

lib_log "restart: the stored choice holds"
kill "$LIB_PID"
wait "$LIB_PID" 2>/dev/null || true
lib_start_dtr "$dtr_bin" "$T/dtr"
api="http://127.0.0.1:$LIB_PORT"
r="$(call "$admin" GET /api/v0/meta/settings)"
[ "$(jq -r .storageBackend <<<"${r#* }")" = s3 ] || lib_die "after a restart the backend is: $r"
[ "$(blob_code admin/moving "$s3_blob")" = 200 ] || lib_die "the S3 blob is gone after a restart"

grep -qF "$S3_SECRET_KEY" "$T/dtr/dtr.log" && lib_die "the secret key is in the log"
lib_log "ok: storage switched through the API, refused when unusable, kept across a restart"
