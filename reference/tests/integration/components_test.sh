#!/usr/bin/env bash
# DTR's components as separate processes on one data directory, behind the built-in front:
# `dtr registry`, `dtr api`, `dtr notary`, `dtr jobrunner` and `dtr front --registry
# --api --notary`. Through the front's one port: skopeo pushes and pulls byte for byte
# through the token flow (the token comes from the api process, the registry verifies it),
# the API sees what the registry stored, Notary answers its paths; each component refuses
# the paths of another, saying which; jobs run on the worker that claims their action
# (online GC in the registry, the rest in the jobrunner); health names a component that is
# down; a component stopped and started again leaves the index alone. The front is the
# edge (--trusted-proxies none): a client's own X-Forwarded-* fields and a forged client
# certificate header change nothing, while a real client certificate verified by the front
# logs its user in at the components behind it (mutual TLS through the front).
#   components_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

dtr_bin="${1:?usage: components_test.sh PATH/TO/dtr}"
lib_require_tools skopeo jq curl sha256sum tar cmp
lib_init
T="$LIB_TMP"
D="$T/data"  # the one data directory every component uses

export DTR_ADMIN_PASSWORD="admin-$RANDOM$RANDOM"
export DTR_SIGNER_PASSPHRASE="signer-$RANDOM$RANDOM"
admin="admin:$DTR_ADMIN_PASSWORD"

start() { # start COMPONENT [ARGS...]: sets PORT_<COMPONENT>
  local c="$1"
  shift
  LIB_DTR_CMD="$c" LIB_DTR_DATA="$D" lib_start_dtr "$dtr_bin" "$T/$c" "$@"
  printf -v "PORT_$c" '%s' "$LIB_PORT"
}

# The registry first: it owns the index (and builds it on a fresh directory).
start registry
start api
start notary
tls_port="$(lib_free_port)"
start front --registry "127.0.0.1:$PORT_registry" --api "127.0.0.1:$PORT_api" \
  --notary "127.0.0.1:$PORT_notary" --tls-listen "127.0.0.1:$tls_port" \
  --client-ca "$D/ca/ca.pem" --trusted-proxies none
"$dtr_bin" jobrunner --data "$D" </dev/null >>"$T/jobrunner.log" 2>&1 &
jobrunner_pid=$!
lib_on_exit "lib_stop_pid $jobrunner_pid '$D'"
lib_watchdog "$jobrunner_pid" "$D"
R="127.0.0.1:$PORT_front"
front="http://$R"

api_call() { # api_call METHOD PATH [JSON]: as admin through the front; prints the body; dies unless 2xx
  local code
  code="$(curl -sS -u "$admin" -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} \
    -o "$T/api.body" -w '%{http_code}' "$front$2")"
  case "$code" in 2??) cat "$T/api.body" ;; *) lib_die "$1 $2 gave $code: $(cat "$T/api.body")" ;; esac
}

lib_log "health through the front: every component healthy"
code="$(curl -sS -o "$T/ping" -w '%{http_code}' "$front/_ping")"
[ "$code" = 200 ] || lib_die "front /_ping gave $code: $(cat "$T/ping")"
[ "$(jq -r .Healthy "$T/ping")" = true ] || lib_die "front /_ping: $(cat "$T/ping")"

lib_log "each component alone refuses another's paths, naming the owner"
code="$(curl -sS -u "$admin" -o "$T/out" -w '%{http_code}' "http://127.0.0.1:$PORT_registry/api/v0/repositories")"
[ "$code" = 404 ] && grep -q "api component" "$T/out" ||
  lib_die "the registry process answered /api/v0 with $code: $(cat "$T/out")"
code="$(curl -sS -o "$T/out" -w '%{http_code}' "http://127.0.0.1:$PORT_api/v2/")"
[ "$code" = 404 ] && grep -q "registry component" "$T/out" ||
  lib_die "the api process answered /v2/ with $code: $(cat "$T/out")"
code="$(curl -sS -o "$T/out" -w '%{http_code}' "http://127.0.0.1:$PORT_notary/v2/")"
[ "$code" = 404 ] || lib_die "the notary process answered /v2/ with $code"

lib_log "the token realm and Location headers name the front, not the component"
curl -sS -D "$T/h" -o /dev/null "$front/v2/"
grep -i '^www-authenticate:' "$T/h" | grep -qF "realm=\"$front/auth/token\"" ||
  lib_die "the challenge through the front does not name the front's realm: $(cat "$T/h")"
# At the edge the front believes no client's forwarding fields: the realm stays its own.
curl -sS -D "$T/h" -o /dev/null -H 'X-Forwarded-Host: evil.example' \
  -H 'X-Forwarded-Proto: https' "$front/v2/"
grep -i '^www-authenticate:' "$T/h" | grep -qF "realm=\"$front/auth/token\"" ||
  lib_die "a client's X-Forwarded-Host reached the realm through the front: $(cat "$T/h")"
# Nor does a client get a user by naming one in the header the front uses for certificates.
code="$(curl -sS -o /dev/null -w '%{http_code}' -H 'X-DTR-Client-Cert-CN: admin' \
  -H "X-DTR-Front-Secret: $(printf '0%.0s' $(seq 64))" "$front/v2/")"
[ "$code" = 401 ] || lib_die "a forged client certificate header gave $code through the front"
code="$(curl -sS -o /dev/null -w '%{http_code}' -H 'X-DTR-Client-Cert-CN: admin' \
  "http://127.0.0.1:$PORT_registry/v2/")"
[ "$code" = 401 ] || lib_die "a forged client certificate header gave $code at the registry"

api_call POST /api/v0/meta/settings '{"createRepositoryOnPush":true}' >/dev/null

lib_log "skopeo pushes through the front (token from the api process, /v2/ in the registry)"
reset_skopeo_cache
L="$T/layout"
oci_init "$L"
mkdir -p "$T/src/etc"
head -c 3000000 /dev/urandom >"$T/src/etc/blob"
make_tar_layer "$T/layer.tar" "$T/src"
digest="$(oci_add_image "$L" v1 amd64 "$T/layer.tar")"
sk() { skopeo --insecure-policy "$@" >"$T/sk.out" 2>&1 || {
  cat "$T/sk.out" >&2
  lib_die "skopeo $*: failed"
}; }
sk copy -q --preserve-digests --dest-tls-verify=false --dest-creds "$admin" "oci:$L:v1" \
  "docker://$R/admin/app:v1"
pull() { # pull DIR: pulls admin/app:v1 through the front and checks it byte for byte
  sk copy -q --preserve-digests --src-tls-verify=false --src-creds "$admin" \
    "docker://$R/admin/app:v1" "oci:$1:v1"
  [ "$(oci_ref_digest "$1" v1)" = "$digest" ] || lib_die "pulled $(oci_ref_digest "$1" v1), pushed $digest"
  assert_layout_has "$L" "$1" "$digest"
}
pull "$T/back"

lib_log "mutual TLS at the front: the certificate's user reaches the registry and the api"
"$dtr_bin" client-cert --user admin --out "$T/admin-cert" --data "$D" >/dev/null
tls() { # tls PATH [CURL ARGS...]: GET over HTTPS at the front; prints the status code
  local p="$1"
  shift
  curl -sS -o "$T/tls.out" -w '%{http_code}' --cacert "$D/ca/ca.pem" "$@" "https://$S_TLS$p"
}
S_TLS="127.0.0.1:$tls_port"
cert=(--cert "$T/admin-cert/client.cert" --key "$T/admin-cert/client.key")
[ "$(tls /v2/)" = 401 ] || lib_die "/v2/ over HTTPS without a certificate was not refused"
[ "$(tls /v2/ "${cert[@]}")" = 200 ] ||
  lib_die "/v2/ with the admin's certificate through the front: $(cat "$T/tls.out")"
[ "$(tls /v2/admin/app/manifests/v1 "${cert[@]}" -H "Accept: application/vnd.oci.image.manifest.v1+json")" = 200 ] ||
  lib_die "a private manifest with the admin's certificate through the front: $(cat "$T/tls.out")"
[ "$(tls /api/v0/repositories/admin/app "${cert[@]}")" = 200 ] ||
  lib_die "the API with the admin's certificate through the front: $(cat "$T/tls.out")"
[ "$(tls /api/v0/repositories/admin/app)" = 404 ] ||  # private: not even its existence
  lib_die "the API over HTTPS without a certificate: $(cat "$T/tls.out")"

lib_log "the api process sees what the registry stored, and the registry's pulls as events"
tags="$(api_call GET /api/v0/repositories/admin/app/tags)"
[ "$(jq -r '.[0].name' <<<"$tags")" = v1 ] || lib_die "API tags: $tags"
[ "$(jq -r '.[0].digest' <<<"$tags")" = "$digest" ] || lib_die "API tag digest: $tags"
for _ in $(seq 1 50); do
  events="$(api_call GET '/api/v0/events?pageSize=50&eventType=GET')"
  jq -e '.events | map(select(.type == "GET" and .object.name == "admin/app:v1")) | length > 0' \
    <<<"$events" >/dev/null && break
  sleep 0.1
done
jq -e '.events | map(select(.type == "GET" and .object.name == "admin/app:v1")) | length > 0' \
  <<<"$events" >/dev/null || lib_die "no pull event for admin/app:v1 in the API: $events"

lib_log "Notary's paths reach the notary process"
code="$(curl -sS -u "$admin" -o "$T/out" -w '%{http_code}' "$front/v2/$R/admin/app/_trust/tuf/root.json")"
[ "$code" = 404 ] || lib_die "root.json of an unsigned GUN gave $code: $(cat "$T/out")"
code="$(curl -sS -u "$admin" -o "$T/out" -w '%{http_code}' -X POST "$front/v2/$R/admin/app/_trust/tuf/timestamp.key")"
[ "$code" = 200 ] || lib_die "timestamp.key through the front gave $code: $(cat "$T/out")"
jq -e '.keytype and .keyval.public' "$T/out" >/dev/null || lib_die "timestamp.key: $(cat "$T/out")"

lib_log "jobs run where their action is claimed: sleep in the jobrunner, GC in the registry"
wait_job() { # wait_job ID: prints the finished job
  local j
  for _ in $(seq 1 200); do
    j="$(api_call GET "/api/v0/jobs/$1")"
    case "$(jq -r .status <<<"$j")" in done | errored | canceled) echo "$j"; return 0 ;; esac
    sleep 0.1
  done
  lib_die "job $1 did not finish in 20 s: $j"
}
sleep_id="$(api_call POST /api/v0/jobs '{"action":"sleep","parameters":{"seconds":0}}' | jq -r .id)"
gc_id="$(api_call POST /api/v0/jobs '{"action":"onlinegc_blobs","parameters":{"grace":"1h"}}' | jq -r .id)"
sleep_job="$(wait_job "$sleep_id")"
gc_job="$(wait_job "$gc_id")"
[ "$(jq -r .status <<<"$sleep_job")" = done ] || lib_die "sleep job: $sleep_job"
[ "$(jq -r .status <<<"$gc_job")" = done ] || lib_die "GC job: $gc_job"
jq -r .workerID <<<"$sleep_job" | grep -q -- '-jobrunner-' ||
  lib_die "the sleep job did not run in the jobrunner: $sleep_job"
jq -r .workerID <<<"$gc_job" | grep -q -- '-registry$' ||
  lib_die "the GC job did not run in the registry: $gc_job"
workers="$(api_call GET /api/v0/workers)"
jq -e '[.workers[] | select(.status == "running")] | length >= 2' <<<"$workers" >/dev/null ||
  lib_die "two running workers expected: $workers"
pull "$T/again"

lib_log "a component that is down makes the front unhealthy, naming it"
lib_stop_dtr "$T/notary"
sleep 1.2  # the front reuses a health answer for a second
code="$(curl -sS -o "$T/ping" -w '%{http_code}' "$front/_ping")"
[ "$code" = 503 ] || lib_die "front /_ping with notary down gave $code: $(cat "$T/ping")"
grep -q notary "$T/ping" || lib_die "the health answer does not name notary: $(cat "$T/ping")"
code="$(curl -sS -o "$T/out" -w '%{http_code}' "$front/v2/$R/admin/app/_trust/tuf/root.json")"
[ "$code" = 502 ] || lib_die "a notary path with notary down gave $code (502 expected)"
grep -q notary "$T/out" || lib_die "the 502 does not name notary: $(cat "$T/out")"
# The registry still serves.
pull "$T/third"

lib_log "the api process stopped and started again on its port: the front reaches it again, the index is not rebuilt (the registry owns it)"
lib_stop_dtr "$T/api"
LIB_DTR_PORT="$PORT_api" start api
grep -q "rebuilding the index\|indexing storage" "$T/api/dtr.log" &&
  lib_die "a component that does not own the index rebuilt it"
tags="$(api_call GET /api/v0/repositories/admin/app/tags)"
[ "$(jq -r '.[0].name' <<<"$tags")" = v1 ] || lib_die "API tags after its restart: $tags"

lib_log "clean stops"
lib_stop_dtr "$T/front"
lib_stop_dtr "$T/api"
lib_stop_pid "$jobrunner_pid" "$D" 20 || lib_die "dtr jobrunner ignored SIGTERM for 20 s"
lib_stop_dtr "$T/registry"
lib_log "components: OK"
