#!/usr/bin/env bash
# The production shape: Debian's nginx, configured by `dtr nginx-config`, in front of
# `dtr serve`. skopeo pushes and pulls through nginx over HTTP and over HTTPS (nginx
# terminating TLS with a certificate from the reference CA), uploads stream through it
# (a 30 MiB layer, and chunked bodies when skopeo compresses), and the reference builds
# Location headers and token realms that point at nginx, not at itself.
# Phase 1 runs dtr with --auth none; phase 2 restarts it with token auth on the same data
# (nginx reloaded with the new upstream) and pulls and pushes with credentials through
# nginx. New repositories under token auth need create-on-push, enabled through
# POST /api/v0/meta/settings when the API is routed; otherwise that step is skipped and
# the pushes go to the repository created in phase 1.
#   nginx_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

dtr_bin="${1:?usage: nginx_test.sh PATH/TO/dtr}"
PATH="$PATH:/usr/sbin"
lib_require_tools nginx skopeo jq curl sha256sum tar cmp
lib_init
T="$LIB_TMP"
export DTR_ADMIN_PASSWORD="nginx-test-$RANDOM$RANDOM"

sk() { skopeo --insecure-policy "$@"; }
copy() {
  if ! sk copy -q "$@" >"$T/skopeo.out" 2>&1; then
    cat "$T/skopeo.out" >&2
    lib_die "skopeo copy $* failed"
  fi
}
expect_eq() { [ "$2" = "$3" ] || lib_die "$1: got '$2', want '$3'"; }
header_of() { # header_of NAME CURL_ARGS...: the value of a response header
  local name="$1"
  shift
  { curl -sS -o /dev/null -D - "$@" || true; } | tr -d '\r' |
    { grep -i "^$name:" || true; } | head -n1 | cut -d' ' -f2-
}
reset_skopeo_cache

# ---------------------------------------------------------------- images
L="$T/layout"
oci_init "$L"
mkdir -p "$T/src/a/etc" "$T/src/b" "$T/src/g"
echo "through nginx $RANDOM$RANDOM" >"$T/src/a/etc/motd"
head -c $((30 * 1024 * 1024)) /dev/urandom >"$T/src/b/big.bin"
make_tar_layer "$T/src/a.tar" "$T/src/a"
make_tar_layer "$T/src/b.tar" "$T/src/b"
img="$(oci_add_image "$L" img amd64 "$T/src/a.tar" "$T/src/b.tar")"
head -c 300000 /dev/urandom | base64 >"$T/src/g/text.b64"
make_tar_layer "$T/src/g.tar" "$T/src/g"
gz="$(oci_add_image "$L" gz amd64 "$T/src/g.tar")"
mkdir -p "$T/src/c"
echo "token phase $RANDOM$RANDOM" >"$T/src/c/file"
make_tar_layer "$T/src/c.tar" "$T/src/c"
img2="$(oci_add_image "$L" img2 amd64 "$T/src/c.tar")"

# ---------------------------------------------------------------- dtr, then nginx
# dtr's own TLS listener makes the reference CA issue the server certificate nginx uses.
lib_start_dtr "$dtr_bin" "$T/dtr" --auth none --tls-listen "127.0.0.1:$(lib_free_port)"
up="127.0.0.1:$LIB_PORT"
data="$T/dtr/data"
ngx="$T/nginx"
mkdir -p "$ngx/logs" "$ngx/temp" "$T/certs"
cp "$data/ca/ca.pem" "$T/certs/ca.crt"
np="$(lib_free_port)"
ntp="$(lib_free_port)"
write_conf() { # write_conf UPSTREAM
  "$dtr_bin" nginx-config --upstream "$1" --listen "127.0.0.1:$np" --tls-listen "127.0.0.1:$ntp" \
    --tls-cert "$data/ca/server.pem" --tls-key "$data/ca/server-key.pem" --out "$ngx/nginx.conf"
}
write_conf "$up"
grep -q "proxy_request_buffering off;" "$ngx/nginx.conf" || lib_die "generated config lacks streaming"
# As root, nginx's workers would run as nobody, who cannot enter the private temp dir.
run_as=()
[ "$(id -u)" -eq 0 ] && run_as=(-g "user root root;")
nginx -t -q -p "$ngx/" -e "$ngx/logs/error.log" -c "$ngx/nginx.conf" "${run_as[@]}" ||
  lib_die "nginx -t rejected the generated configuration"
nginx -p "$ngx/" -e "$ngx/logs/error.log" -c "$ngx/nginx.conf" -g "daemon off;${run_as[1]:-}" \
  </dev/null >>"$ngx/logs/nginx.log" 2>&1 &
ngx_pid=$!
lib_on_exit "lib_stop_pid $ngx_pid nginx 10"
lib_watchdog "$ngx_pid" nginx
lib_wait_http "http://127.0.0.1:$np/_ping" 15 "$ngx_pid" || lib_die "nginx did not come up"
lib_log "nginx (pid $ngx_pid) on 127.0.0.1:$np (HTTP) and 127.0.0.1:$ntp (HTTPS) -> $up"
N="127.0.0.1:$np"
NT="127.0.0.1:$ntp"

# ---------------------------------------------------------------- phase 1: no auth
lib_log "health and status through nginx"
curl -fsS "http://$N/_ping" | jq -e '.Healthy == true' >/dev/null || lib_die "/_ping via nginx"
curl -fsS "http://$N/nginx_status" | grep -q "Active connections" || lib_die "nginx stub_status"
curl -fsS --cacert "$T/certs/ca.crt" "https://$NT/_ping" | jq -e '.Healthy == true' >/dev/null ||
  lib_die "/_ping via nginx over HTTPS"

ns="ngx$(date +%s)$RANDOM"
lib_log "Location headers point at nginx"
loc="$(header_of Location -X POST "http://$N/v2/$ns/probe/blobs/uploads/")"
[[ "$loc" == "http://$N/v2/$ns/probe/blobs/uploads/"* ]] || lib_die "upload Location via nginx: $loc"
loc="$(header_of Location --cacert "$T/certs/ca.crt" -X POST "https://$NT/v2/$ns/probe/blobs/uploads/")"
[[ "$loc" == "https://$NT/v2/$ns/probe/blobs/uploads/"* ]] ||
  lib_die "upload Location via nginx over HTTPS: $loc"

lib_log "skopeo push and pull through nginx (HTTP)"
copy --preserve-digests --dest-tls-verify=false "oci:$L:img" "docker://$N/$ns/app:v1"
copy "oci:$L:gz" --dest-tls-verify=false "docker://$N/$ns/gz:v1"
copy --preserve-digests --src-tls-verify=false "docker://$N/$ns/app:v1" "oci:$T/pull1:img"
assert_layout_has "$L" "$T/pull1" "$img"
grep -qE "\"PATCH /v2/$ns/app/blobs/uploads/[^\"]*\" 202 in=3[0-9]{7}" "$ngx/logs/access.log" ||
  lib_die "the 30 MiB PATCH did not go through nginx"
grep -qE "\"PATCH /v2/$ns/app/blobs/uploads/[^\"]*\" 202 in=3[0-9]{7}" "$T/dtr/dtr.log" ||
  lib_die "the 30 MiB PATCH did not reach dtr whole"

lib_log "skopeo push and pull through nginx (HTTPS, trusting the reference CA)"
copy --preserve-digests --dest-cert-dir "$T/certs" "oci:$L:img" "docker://$NT/$ns/app-tls:v1"
copy --preserve-digests --src-cert-dir "$T/certs" "docker://$NT/$ns/app-tls:v1" "oci:$T/pull2:img"
assert_layout_has "$L" "$T/pull2" "$img"
lib_stop_dtr "$T/dtr"

# ---------------------------------------------------------------- phase 2: token auth
lib_log "token auth behind nginx"
lib_start_dtr "$dtr_bin" "$T/dtr" --auth token
write_conf "127.0.0.1:$LIB_PORT"
kill -HUP "$ngx_pid"
realm=""
for _ in $(seq 1 50); do
  realm="$(header_of WWW-Authenticate "http://$N/v2/")"
  [ -n "$realm" ] && break
  sleep 0.2
done
[[ "$realm" == *"realm=\"http://$N/auth/token\""* ]] || lib_die "token realm via nginx: $realm"
realm="$(header_of WWW-Authenticate --cacert "$T/certs/ca.crt" "https://$NT/v2/")"
[[ "$realm" == *"realm=\"https://$NT/auth/token\""* ]] ||
  lib_die "token realm via nginx over HTTPS: $realm"
creds=(--creds "admin:$DTR_ADMIN_PASSWORD")
sk inspect --raw --tls-verify=false "${creds[@]}" "docker://$N/$ns/app:v1" |
  cmp -s - "$(oci_blob "$L" "$img")" || lib_die "authenticated inspect via nginx differs"
copy --preserve-digests --dest-tls-verify=false --dest-creds "admin:$DTR_ADMIN_PASSWORD" \
  "oci:$L:img2" "docker://$N/$ns/app:v2"
copy --preserve-digests --src-cert-dir "$T/certs" --src-creds "admin:$DTR_ADMIN_PASSWORD" \
  "docker://$NT/$ns/app:v2" "oci:$T/pull3:img2"
assert_layout_has "$L" "$T/pull3" "$img2"
loc="$(header_of Location -u "admin:$DTR_ADMIN_PASSWORD" -X POST "http://$N/v2/$ns/app/blobs/uploads/")"
[[ "$loc" == "http://$N/v2/$ns/app/blobs/uploads/"* ]] || lib_die "Location with auth via nginx: $loc"

code="$(curl -sS -o "$T/settings.out" -w '%{http_code}' -u "admin:$DTR_ADMIN_PASSWORD" \
  -H 'Content-Type: application/json' -X POST --data '{"createRepositoryOnPush": true}' \
  "http://$N/api/v0/meta/settings")"
if [ "$code" = 200 ] || [ "$code" = 202 ]; then
  lib_log "create-on-push enabled; pushing a new repository through nginx with a token"
  copy --preserve-digests --dest-cert-dir "$T/certs" --dest-creds "admin:$DTR_ADMIN_PASSWORD" \
    "oci:$L:img2" "docker://$NT/$ns/fresh:v1"
  copy --preserve-digests --src-tls-verify=false --src-creds "admin:$DTR_ADMIN_PASSWORD" \
    "docker://$N/$ns/fresh:v1" "oci:$T/pull4:img2"
  assert_layout_has "$L" "$T/pull4" "$img2"
else
  lib_log "POST /api/v0/meta/settings answered $code: create-on-push not exercised here"
fi
lib_stop_dtr "$T/dtr"
lib_stop_pid "$ngx_pid" nginx 10 || lib_die "nginx ignored SIGTERM"
lib_log "PASS nginx_test"
