#!/usr/bin/env bash
# The registry on a storage backend, with a real client: this script starts the backend's
# real server, runs dtr serve configured with it (a config.yml `storage:` section), and
# skopeo pushes (a 30 MiB layer through chunked uploads, a small image, a multi-arch index),
# lists, pulls back byte for byte, mounts across repositories, deletes; then dtr serve is
# restarted on the same backend with a fresh index, which it rebuilds from the backend, and
# every tag still pulls. Then the fault: the backend's server is stopped in the middle of a
# push; the push must fail with a registry 5xx within the configured timeouts (no hang), a
# request that arrives while it is down must get a 503 naming the backend, no blob of the
# failed push may be visible; the server comes back with its data and the same push then
# works and pulls back byte for byte. Last, the server hangs (SIGSTOP): a request must get a
# 503 within the configured timeout, and once it resumes requests work again. (S3 on
# Swift's s3api has its own, longer test: registry_s3_test.sh.)
# NFS: nfs-ganesha runs in a private network namespace (ci/start-nfs), so the script runs
# itself again inside it (dtr serve, skopeo and curl all talk to 127.0.0.1 there); the
# outer run starts and stops the server. Needs root.
#   registry_backend_test.sh PATH/TO/dtr swift|azure|nfs
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"
ci="$(cd "$here/../../../ci" && pwd)"

usage="usage: registry_backend_test.sh PATH/TO/dtr swift|azure|nfs"
dtr_bin="${1:?$usage}"
backend="${2:?$usage}"
[ -x "$dtr_bin" ] || lib_die "dtr binary not found or not executable: $dtr_bin"
dtr_bin="$(cd "$(dirname "$dtr_bin")" && pwd)/$(basename "$dtr_bin")"
lib_require_tools skopeo jq curl sha256sum tar cmp
lib_init
T="$LIB_TMP"

# NFS, outer run: the server in its namespace, and this script again inside it.
if [ "$backend" = nfs ] && [ -z "${DTR_IT_NFS_DIR:-}" ]; then
  [ "$(id -u)" -eq 0 ] ||
    lib_die "needs root: ci/start-nfs runs nfs-ganesha in a network namespace (ip netns)"
  lib_require_tools ganesha.nfsd rpcbind rpcinfo nfs-ls ip unshare nsenter
  lib_on_exit "'$ci/stop-nfs' '$T/nfs' >&2"
  "$ci/start-nfs" "$T/nfs" >&2 || lib_die "ci/start-nfs could not start nfs-ganesha (see above)"
  lib_watchdog "$(cat "$T/nfs/rpcbind.pid")" rpcbind
  # shellcheck disable=SC1091
  source "$T/nfs/env"
  DTR_IT_NFS_DIR="$T/nfs" ip netns exec "$NFS_NETNS" bash "$here/registry_backend_test.sh" \
    "$dtr_bin" nfs
  exit 0
fi

sk() { skopeo --insecure-policy "$@"; }
copy() {
  sk copy -q --preserve-digests --src-tls-verify=false --dest-tls-verify=false "$@" \
    >"$T/skopeo.out" 2>&1 || {
    cat "$T/skopeo.out" >&2
    lib_die "skopeo copy $* failed"
  }
}
reset_skopeo_cache

# ---------------------------------------------------------------- the backend
# backend_start / backend_stop: the backend's server, started again on the same address
# with the data it had; backend_pids: its processes (to freeze with SIGSTOP); down_names:
# what a message about it must name. The timeouts are short so that the fault phase is
# bounded: a registry request to a dead or hung backend gives up within `timeout` s.
timeout=10
FAULT_MIB=100
case "$backend" in
  swift)
    lib_require_tools swift-proxy-server memcached
    port="$(lib_free_port_run 5)"  # proxy, object, container, account, memcached
    lib_on_exit "'$ci/stop-swift' '$T/swift' >&2"
    backend_start() {
      "$ci/start-swift" "$T/swift" "$port" >&2 ||
        lib_die "ci/start-swift could not start OpenStack Swift on 127.0.0.1:$port (see above)"
      local n
      for n in proxy account container object memcached; do
        lib_watchdog "$(cat "$T/swift/$n.pid")" \
          "$([ "$n" = memcached ] && echo memcached || echo "$T/swift/$n-server.conf")"
      done
    }
    backend_stop() { "$ci/stop-swift" "$T/swift" --keep-data >&2; }
    backend_pids() { echo "-$(cat "$T/swift/proxy.pid")"; }  # its process group: the workers
    backend_start
    # shellcheck disable=SC1091
    source "$T/swift/env"
    down_names="127.0.0.1:$port"
    storage="  swift:
    authurl: $SWIFT_URL
    username: \"$SWIFT_USER\"
    password: \"$SWIFT_KEY\"
    container: registry
    prefix: /dtr
    chunksize: 5242880
    connecttimeout: 2s
    requesttimeout: ${timeout}s
    maxretries: 2"
    ;;
  azure)
    lib_require_tools node
    lib_on_exit "'$ci/stop-azurite' '$T/azurite' >/dev/null 2>&1 || true"
    backend_start() {
      # The same port again after a stop, so that the registry's endpoint still holds.
      # shellcheck disable=SC2046
      "$ci/start-azurite" "$T/azurite" $(cat "$T/azurite/port" 2>/dev/null) >&2 ||
        lib_die "ci/start-azurite could not start Azurite (see above)"
      lib_watchdog "$(cat "$T/azurite/azurite.pid")" azurite
    }
    backend_stop() { "$ci/stop-azurite" "$T/azurite" >&2; }
    backend_pids() { cat "$T/azurite/azurite.pid"; }
    backend_start
    # shellcheck disable=SC1091
    source "$T/azurite/env"
    down_names="$AZURE_ENDPOINT"
    storage="  azure:
    accountname: \"$AZURE_ACCOUNT_NAME\"
    accountkey: \"$AZURE_ACCOUNT_KEY\"
    serviceurl: $AZURE_ENDPOINT
    container: registry
    chunksize: 5242880
    connecttimeout: 2s
    requesttimeout: ${timeout}s
    maxretries: 2"
    ;;
  nfs)
    # Inner run: in the server's namespace; ci/start-nfs restarts ganesha in it.
    nfs_dir="$DTR_IT_NFS_DIR"
    backend_start() {
      "$ci/start-nfs" "$nfs_dir" >&2 || lib_die "ci/start-nfs could not restart nfs-ganesha"
      lib_watchdog "$(cat "$nfs_dir/ganesha.pid")" "$nfs_dir/ganesha.conf"
    }
    backend_stop() { "$ci/stop-nfs" "$nfs_dir" --keep-netns >&2; }
    backend_pids() { cat "$nfs_dir/ganesha.pid"; }
    # shellcheck disable=SC1091
    source "$nfs_dir/env"
    down_names="127.0.0.1:/export"
    storage="  nfs:
    url: ${NFS_URL/\/export/\/export\/registry}
    timeout: ${timeout}s
    maxretries: 2"
    ;;
  *) lib_die "unknown backend '$backend' (swift, azure, nfs)" ;;
esac
cat >"$T/config.yml" <<YAML
version: 0.1
storage:
$storage
  delete:
    enabled: true
YAML

# ---------------------------------------------------------------- images
L="$T/layout"
oci_init "$L"
mkdir -p "$T/src/big" "$T/src/small"
head -c $((30 * 1024 * 1024)) /dev/urandom >"$T/src/big/random.bin"
echo "small $RANDOM$RANDOM" >"$T/src/small/motd"
make_tar_layer "$T/big.tar" "$T/src/big"
make_tar_layer "$T/small.tar" "$T/src/small"
big="$(oci_add_image "$L" big amd64 "$T/big.tar" "$T/small.tar")"
small_amd="$(oci_add_image "$L" "" amd64 "$T/small.tar")"
small_arm="$(oci_add_image "$L" "" arm64 "$T/small.tar")"
multi="$(oci_add_index "$L" multi "amd64=$small_amd" "arm64=$small_arm")"
# For the fault: a layer big enough that the push is still running when the server stops.
mkdir -p "$T/src/fault"
head -c $((FAULT_MIB * 1024 * 1024)) /dev/urandom >"$T/src/fault/random.bin"
make_tar_layer "$T/fault.tar" "$T/src/fault"
rm -rf "$T/src/fault"
fault="$(oci_add_image "$L" fault amd64 "$T/fault.tar")"
rm -f "$T/fault.tar"
fault_layer="$(jq -r '.layers[0].digest' "$(oci_blob "$L" "$fault")")"

lib_start_dtr "$dtr_bin" "$T/dtr" --auth none --config "$T/config.yml"
R="127.0.0.1:$LIB_PORT"
lib_log "push to dtr serve on $backend"
copy "oci:$L:big" "docker://$R/team/big:v1"
copy --all "oci:$L:multi" "docker://$R/team/multi:latest"
copy "docker://$R/team/big:v1" "docker://$R/other/big:mounted"  # a cross-repository mount

lib_log "list and pull back byte for byte"
tags="$(curl -fsS "http://$R/v2/team/big/tags/list" | jq -c .tags)"
[ "$tags" = '["v1"]' ] || lib_die "tags: $tags"
copy "docker://$R/team/big:v1" "oci:$T/p1:v1"
assert_layout_has "$L" "$T/p1" "$big"
copy --all "docker://$R/team/multi:latest" "oci:$T/p2:latest"
assert_layout_has "$L" "$T/p2" "$multi"
copy "docker://$R/other/big:mounted" "oci:$T/p3:m"
assert_layout_has "$L" "$T/p3" "$big"

lib_log "delete"
sk delete --tls-verify=false "docker://$R/other/big@$big" >"$T/del.out" 2>&1 || {
  cat "$T/del.out" >&2
  lib_die "skopeo delete failed"
}
code="$(curl -sS -o /dev/null -w '%{http_code}' "http://$R/v2/other/big/manifests/$big")"
[ "$code" = 404 ] || lib_die "the deleted manifest answers $code"

lib_log "restart on the same $backend with a fresh index"
kill "$LIB_PID"
wait "$LIB_PID" 2>/dev/null || true
rm -rf "$T/dtr"
lib_start_dtr "$dtr_bin" "$T/dtr" --auth none --config "$T/config.yml"
R="127.0.0.1:$LIB_PORT"
copy "docker://$R/team/big:v1" "oci:$T/p4:v1"
assert_layout_has "$L" "$T/p4" "$big"
copy --all "docker://$R/team/multi:latest" "oci:$T/p5:latest"
assert_layout_has "$L" "$T/p5" "$multi"
code="$(curl -sS -o /dev/null -w '%{http_code}' "http://$R/v2/other/big/manifests/$big")"
[ "$code" = 404 ] || lib_die "the deleted manifest came back after a reindex ($code)"
lib_log "ok: skopeo push, pull, mount and delete through dtr serve on $backend"

# ---------------------------------------------------------------- fault: the server dies mid-push
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
reset_skopeo_cache
lib_log "fault: stopping the $backend server in the middle of a $FAULT_MIB MiB push"
start=$(date +%s%N)
sk copy --preserve-digests --src-tls-verify=false --dest-tls-verify=false \
  "oci:$L:fault" "docker://$R/it/fault:v1" >"$T/fault.out" 2>&1 &
push_pid=$!
# Its upload has started (the POST is in the access log): the layer's PATCH is under way.
wait_grep "$T/dtr/dtr.log" "POST /v2/it/fault/blobs/uploads/" 30 ||
  lib_die "the push did not start an upload within 30 s"
backend_stop
# Bounded: every storage request of the registry gives up within the timeouts above.
if ! wait_exit "$push_pid" $((3 * timeout + 30)); then
  kill "$push_pid" 2>/dev/null || true
  lib_die "skopeo still pushing $((3 * timeout + 30)) s after $backend was stopped: the registry hung"
fi
rc=0
wait "$push_pid" || rc=$?
fault_ms="$(ms_since "$start")"
sed 's/^/  skopeo: /' "$T/fault.out" >&2
[ "$rc" -ne 0 ] || lib_die "the push succeeded although $backend was stopped in the middle"
# The registry answered the upload with a 5xx (skopeo may report it, or the broken pipe of a
# body the registry stopped reading after answering).
grep -qE "\"(PATCH|PUT) /v2/it/fault/blobs/uploads/[^\"]*\" 5[0-9][0-9]" "$T/dtr/dtr.log" ||
  lib_die "the registry did not answer the interrupted upload with a 5xx"
lib_log "ok: the push failed after $fault_ms ms with a registry 5xx"

# A request that arrives while the backend is down: a 503 naming it, within the timeout.
start=$(date +%s%N)
code="$(curl -s -o "$T/down.json" -w '%{http_code}' --max-time $((timeout + 30)) -X POST \
  "http://$R/v2/it/down/blobs/uploads/" || true)"
down_ms="$(ms_since "$start")"
sed 's/^/  registry: /' "$T/down.json" >&2
echo >&2
[ "$code" = 503 ] || lib_die "starting an upload with $backend down answered $code, want 503"
grep -qF "$down_names" "$T/down.json" ||
  lib_die "the 503's message does not name the $backend backend ($down_names)"
[ "$down_ms" -le $((timeout * 1000 + 5000)) ] ||
  lib_die "the 503 took $down_ms ms, more than the ${timeout} s timeout"
lib_log "ok: with $backend down the registry answers 503 naming it in $down_ms ms"
code="$(curl -s -o /dev/null -w '%{http_code}' -I --max-time $((timeout + 30)) \
  "http://$R/v2/it/fault/blobs/$fault_layer" || true)"
[ "$code" != 200 ] || lib_die "the half-pushed layer is visible while $backend is down"

lib_log "fault: starting the $backend server again"
backend_start
code="$(curl -s -o /dev/null -w '%{http_code}' -I --max-time $((timeout + 30)) \
  "http://$R/v2/it/fault/blobs/$fault_layer")"
[ "$code" = 404 ] || lib_die "after the failed push, HEAD of its layer gave $code, want 404"
if [ "$backend" = nfs ]; then
  f="$NFS_EXPORT_DIR/registry/docker/registry/v2/blobs/sha256/${fault_layer:7:2}/${fault_layer#sha256:}/data"
  [ ! -e "$f" ] || lib_die "the failed push left its layer at $f on the export"
fi
# What was there before the outage is still served (read back from the restarted server).
copy --all "docker://$R/team/multi:latest" "oci:$T/p6:latest"
assert_layout_has "$L" "$T/p6" "$multi"
reset_skopeo_cache
copy "oci:$L:fault" "docker://$R/it/fault:v1"
reset_skopeo_cache
copy "docker://$R/it/fault:v1" "oci:$T/p7:v1"
assert_layout_has "$L" "$T/p7" "$fault"
lib_log "ok: after $backend came back a new push and pull work"

# ---------------------------------------------------------------- fault: the server hangs
lib_log "fault: freezing the $backend server (SIGSTOP)"
# However the script ends, the server is never left stopped (its stop script needs it alive).
# shellcheck disable=SC2016  # expanded at exit
lib_on_exit 'kill -CONT -- $(backend_pids) 2>/dev/null || true'
kill -STOP -- "$(backend_pids)"
start=$(date +%s%N)
code="$(curl -s -o "$T/hung.json" -w '%{http_code}' --max-time $((3 * timeout + 30)) -X POST \
  "http://$R/v2/it/hung/blobs/uploads/" || true)"
hung_ms="$(ms_since "$start")"
kill -CONT -- "$(backend_pids)"
sed 's/^/  registry: /' "$T/hung.json" >&2
echo >&2
[ "$code" = 503 ] || lib_die "starting an upload with $backend hung answered $code, want 503"
grep -qF "$down_names" "$T/hung.json" ||
  lib_die "the 503's message does not name the $backend backend ($down_names)"
[ "$hung_ms" -le $((timeout * 1000 + 5000)) ] ||
  lib_die "the 503 took $hung_ms ms, more than the ${timeout} s timeout"
lib_log "ok: with $backend hung the registry answers 503 naming it in $hung_ms ms"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time $((timeout + 30)) -X POST \
  "http://$R/v2/it/hung/blobs/uploads/" || true)"
[ "$code" = 202 ] || lib_die "once $backend resumed, starting an upload answered $code, want 202"
lib_log "ok: once $backend resumed, uploads start again"
