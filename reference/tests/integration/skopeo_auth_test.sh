#!/usr/bin/env bash
# skopeo through the token flow (dtr serve's default auth): users made with the /enzi/v0
# API, a private repository created on push, a public one made with /api/v0; skopeo
# --creds pushes and pulls byte for byte; anonymous skopeo pulls the public repository and
# is refused on the private one; another user cannot read the private one nor write the
# public one; an API token works as a password and stops working once deleted.
#   skopeo_auth_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

dtr_bin="${1:?usage: skopeo_auth_test.sh PATH/TO/dtr}"
lib_require_tools skopeo jq curl sha256sum tar cmp
lib_init
T="$LIB_TMP"

export DTR_ADMIN_PASSWORD="admin-$RANDOM$RANDOM"
lib_start_dtr "$dtr_bin" "$T/dtr"
R="127.0.0.1:$LIB_PORT"
api="http://$R"
grep -qF "$DTR_ADMIN_PASSWORD" "$T/dtr/dtr.log" && lib_die "the admin password is in the log"

sk() { skopeo --insecure-policy "$@"; }
must() { # must WHAT CMD...: runs CMD quietly, shows its output and dies when it fails
  local what="$1"
  shift
  "$@" >"$T/out" 2>&1 || {
    cat "$T/out" >&2
    lib_die "$what failed"
  }
}
refused() { # refused WHAT CMD...: CMD must fail with an authorization error
  local what="$1"
  shift
  if "$@" >"$T/out" 2>&1; then lib_die "$what succeeded; it must be refused"; fi
  grep -qiE 'unauthorized|denied|authentication required|not authorized|401|403|name unknown|not found' \
    "$T/out" || {
    cat "$T/out" >&2
    lib_die "$what failed, but not with an authorization error"
  }
}
api_call() { # api_call USER:PW METHOD PATH [JSON]: prints the body; dies unless 2xx
  local code
  code="$(curl -sS -u "$1" -X "$2" -H 'Content-Type: application/json' ${4:+-d "$4"} \
    -o "$T/api.body" -w '%{http_code}' "$api$3")"
  case "$code" in 2??) cat "$T/api.body" ;; *) lib_die "$2 $3 gave $code: $(cat "$T/api.body")" ;; esac
}
admin="admin:$DTR_ADMIN_PASSWORD"

reset_skopeo_cache

lib_log "users alice and bob through /enzi/v0"
alice_pw="alice-$RANDOM$RANDOM"
bob_pw="bob-$RANDOM$RANDOM"
api_call "$admin" POST /enzi/v0/accounts "{\"name\":\"alice\",\"password\":\"$alice_pw\"}" >/dev/null
api_call "$admin" POST /enzi/v0/accounts "{\"name\":\"bob\",\"password\":\"$bob_pw\"}" >/dev/null

lib_log "an OCI layout with one image"
L="$T/layout"
oci_init "$L"
mkdir -p "$T/src/etc"
echo "secret of $RANDOM$RANDOM" >"$T/src/etc/motd"
head -c 200000 /dev/urandom >"$T/src/etc/blob"
make_tar_layer "$T/layer.tar" "$T/src"
digest="$(oci_add_image "$L" v1 amd64 "$T/layer.tar")"

lib_log "createRepositoryOnPush off (the default): a push to a new repository is refused, saying why"
if sk copy -q --preserve-digests --dest-tls-verify=false --dest-creds "alice:$alice_pw" "oci:$L:v1" \
  "docker://$R/alice/private:v1" >"$T/out" 2>&1; then
  lib_die "a push created alice/private with createRepositoryOnPush off"
fi
grep -q "createRepositoryOnPush is off" "$T/out" || {
  cat "$T/out" >&2
  lib_die "the refusal does not say why"
}
api_call "$admin" POST /api/v0/meta/settings '{"createRepositoryOnPush":true}' >/dev/null

lib_log "alice pushes a private repository (created on push) and a public one (made with the API)"
must "alice's push to alice/private" sk copy -q --preserve-digests --dest-tls-verify=false --dest-creds "alice:$alice_pw" \
  "oci:$L:v1" "docker://$R/alice/private:v1"
vis="$(api_call "alice:$alice_pw" GET /api/v0/repositories/alice/private | jq -r .visibility)"
[ "$vis" = private ] || lib_die "a repository created on push is $vis, want private"
api_call "alice:$alice_pw" POST /api/v0/repositories/alice \
  '{"name":"public","visibility":"public","shortDescription":"for everyone"}' >/dev/null
must "alice's push to alice/public" sk copy -q --preserve-digests --dest-tls-verify=false --dest-creds "alice:$alice_pw" \
  "oci:$L:v1" "docker://$R/alice/public:v1"

lib_log "alice pulls her private image back, byte for byte"
P="$T/pulled"
must "alice's pull" sk copy -q --preserve-digests --src-tls-verify=false --src-creds "alice:$alice_pw" \
  "docker://$R/alice/private:v1" "oci:$P:v1"
assert_layout_has "$L" "$P" "$digest"
tags="$(sk list-tags --tls-verify=false --creds "alice:$alice_pw" "docker://$R/alice/private" | jq -c .Tags)"
[ "$tags" = '["v1"]' ] || lib_die "alice's tags: $tags"

lib_log "anonymous: the public repository yes, the private one no"
must "anonymous pull of alice/public" sk copy -q --preserve-digests --src-tls-verify=false --src-no-creds \
  "docker://$R/alice/public:v1" "oci:$T/anon:v1"
assert_layout_has "$L" "$T/anon" "$digest"
refused "anonymous pull of alice/private" sk copy -q --preserve-digests --src-tls-verify=false --src-no-creds \
  "docker://$R/alice/private:v1" "oci:$T/anon2:v1"
refused "anonymous push to alice/public" sk copy -q --preserve-digests --dest-tls-verify=false --dest-no-creds \
  "oci:$L:v1" "docker://$R/alice/public:v2"

lib_log "bob: no reading alice/private, no writing alice/public"
refused "bob's pull of alice/private" sk copy -q --preserve-digests --src-tls-verify=false --src-creds "bob:$bob_pw" \
  "docker://$R/alice/private:v1" "oci:$T/bob:v1"
refused "bob's inspect of alice/private" sk inspect --tls-verify=false --creds "bob:$bob_pw" \
  "docker://$R/alice/private:v1"
refused "bob's push to alice/public" sk copy -q --preserve-digests --dest-tls-verify=false --dest-creds "bob:$bob_pw" \
  "oci:$L:v1" "docker://$R/alice/public:bob"
refused "a wrong password" sk inspect --tls-verify=false --creds "alice:wrong-$RANDOM" \
  "docker://$R/alice/public:v1"
code="$(curl -sS -u "bob:$bob_pw" -o /dev/null -w '%{http_code}' "$api/api/v0/repositories/alice/private")"
[ "$code" = 404 ] || lib_die "bob learns alice/private exists through the API ($code)"
catalog="$(curl -fsS -u "bob:$bob_pw" "$api/api/v0/repositories" | jq -c '[.repositories[].name]')"
grep -q '"private"' <<<"$catalog" && lib_die "bob's repository list shows alice/private: $catalog"

lib_log "an API token works as bob's password, until it is deleted"
tok_json="$(api_call "bob:$bob_pw" POST /api/v0/api_tokens '{"tokenLabel":"skopeo"}')"
tok="$(jq -r .token <<<"$tok_json")"
[ -n "$tok" ] && [ "$tok" != null ] || lib_die "no token in $tok_json"
must "a pull of alice/public with bob's API token" sk copy -q --src-tls-verify=false \
  --src-creds "bob:$tok" "docker://$R/alice/public:v1" "oci:$T/tok:v1"
hashed="$(jq -r .hashedToken <<<"$tok_json")"
api_call "bob:$bob_pw" DELETE "/api/v0/api_tokens/$hashed" >/dev/null
refused "a pull with a deleted API token" sk inspect --tls-verify=false --creds "bob:$tok" \
  "docker://$R/alice/public:v1"

grep -qF "$alice_pw" "$T/dtr/dtr.log" && lib_die "a password is in the log"
grep -qF "$tok" "$T/dtr/dtr.log" && lib_die "an API token is in the log"
lib_log "ok: skopeo through the token flow"
