#!/usr/bin/env bash
# Two replicas of dtr serve sharing a real etcd as their config store (--config-store
# etcd://...): a setting changed through one replica reaches the other without a restart,
# and the other acts on it (createRepositoryOnPush lets a push create a repository there;
# readOnlyRegistry makes it refuse writes). Also: an unreachable etcd fails the start with
# a message that names it.
#   settings_replicas_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
ci="$(cd "$here/../../../ci" && pwd)"

dtr_bin="${1:?usage: settings_replicas_test.sh PATH/TO/dtr}"
lib_require_tools jq curl etcd sha256sum
lib_init
T="$LIB_TMP"

"$ci/start-etcd" "$T/etcd" 1 --owner $$ >&2 || lib_die "ci/start-etcd could not start etcd"
lib_on_exit "'$ci/stop-etcd' '$T/etcd' >/dev/null 2>&1 || true"
endpoints="$(cat "$T/etcd/endpoints")"
spec="etcd://$(sed 's#http://##g' <<<"$endpoints")"

export DTR_ADMIN_PASSWORD="admin-$RANDOM$RANDOM"
admin="admin:$DTR_ADMIN_PASSWORD"
lib_start_dtr "$dtr_bin" "$T/a" --config-store "$spec"
a="http://127.0.0.1:$LIB_PORT"
lib_start_dtr "$dtr_bin" "$T/b" --config-store "$spec"
b="http://127.0.0.1:$LIB_PORT"

setting() { curl -fsS -u "$admin" "$1/api/v0/meta/settings" | jq -r ".$2"; }
# wait_setting URL FIELD WANT: bounded (10 s); prints the milliseconds it took.
wait_setting() {
  local start=$(($(date +%s%N) / 1000000)) got=""
  for _ in $(seq 1 200); do
    got="$(setting "$1" "$2")"
    if [ "$got" = "$3" ]; then
      echo $(($(date +%s%N) / 1000000 - start))
      return 0
    fi
    sleep 0.05
  done
  lib_die "$2 on $1 is '$got' 10 s after the change, want '$3'"
}
push_blob() { # push_blob BASE REPO -> HTTP code of a monolithic upload as admin
  printf 'blob %s' "$RANDOM$RANDOM" >"$T/blob"
  local d="sha256:$(sha256sum "$T/blob" | cut -d' ' -f1)"
  curl -sS -u "$admin" -o "$T/push.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/octet-stream' --data-binary @"$T/blob" \
    "$1/v2/$2/blobs/uploads/?digest=$d"
}

[ "$(setting "$b" createRepositoryOnPush)" = false ] || lib_die "createRepositoryOnPush starts on"
code="$(push_blob "$b" admin/made-on-b)"
[ "$code" = 401 ] || [ "$code" = 403 ] || lib_die "push to a missing repository gave $code"

lib_log "createRepositoryOnPush set through replica A"
curl -fsS -u "$admin" -X POST -H 'Content-Type: application/json' \
  -d '{"createRepositoryOnPush":true}' "$a/api/v0/meta/settings" -o /dev/null
ms="$(wait_setting "$b" createRepositoryOnPush true)"
lib_log "replica B saw it after ${ms} ms"
code="$(push_blob "$b" admin/made-on-b)"
[ "$code" = 201 ] || lib_die "replica B did not act on the setting: push gave $code $(cat "$T/push.out")"

lib_log "readOnlyRegistry set through replica B"
curl -fsS -u "$admin" -X POST -H 'Content-Type: application/json' \
  -d '{"readOnlyRegistry":true}' "$b/api/v0/meta/settings" -o /dev/null
ms="$(wait_setting "$a" readOnlyRegistry true)"
lib_log "replica A saw it after ${ms} ms"
code="$(push_blob "$a" admin/made-on-b)"
[ "$code" = 405 ] || lib_die "replica A in read-only mode accepted a push ($code)"
curl -fsS -u "$admin" -X POST -H 'Content-Type: application/json' \
  -d '{"readOnlyRegistry":false}' "$a/api/v0/meta/settings" -o /dev/null
wait_setting "$b" readOnlyRegistry false >/dev/null
[ "$(setting "$b" createRepositoryOnPush)" = true ] || lib_die "a partial update lost another field"

lib_log "an unreachable etcd fails the start, naming it"
dead="127.0.0.1:$(lib_free_port)"
if timeout 60 "$dtr_bin" serve --listen "127.0.0.1:$(lib_free_port)" --data "$T/c" \
  --config-store "etcd://$dead" >"$T/c.log" 2>&1; then
  lib_die "dtr serve started without its config store"
fi
grep -q "$dead" "$T/c.log" || { cat "$T/c.log" >&2; lib_die "the error does not name the etcd endpoint"; }
lib_log "ok: settings reach every replica through etcd without a restart"
