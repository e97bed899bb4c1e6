#!/usr/bin/env bash
# The registry on a storage backend, with a real client: this script starts the backend's
# real server, runs dtr serve configured with it (a config.yml `storage:` section), and
# skopeo pushes (a 30 MiB layer through chunked uploads, a small image, a multi-arch index),
# lists, pulls back byte for byte, mounts across repositories, deletes; then dtr serve is
# restarted on the same backend with a fresh index, which it rebuilds from the backend, and
# every tag still pulls. (S3 on Swift's s3api has its own, longer test: registry_s3_test.sh.)
#   registry_backend_test.sh PATH/TO/dtr swift|azure|nfs
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"
ci="$(cd "$here/../../../ci" && pwd)"

dtr_bin="${1:?usage: registry_backend_test.sh PATH/TO/dtr swift|azure|nfs}"
backend="${2:?usage: registry_backend_test.sh PATH/TO/dtr swift|azure|nfs}"
lib_require_tools skopeo jq curl sha256sum tar cmp
lib_init
T="$LIB_TMP"

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
case "$backend" in
  swift)
    lib_require_tools swift-proxy-server memcached
    port="$(lib_free_port_run 5)"  # proxy, object, container, account, memcached
    lib_on_exit "'$ci/stop-swift' '$T/swift' >&2"
    "$ci/start-swift" "$T/swift" "$port" >&2 ||
      lib_die "ci/start-swift could not start OpenStack Swift on 127.0.0.1:$port (see above)"
    # shellcheck disable=SC1091
    source "$T/swift/env"
    storage="  swift:
    authurl: $SWIFT_URL
    username: \"$SWIFT_USER\"
    password: \"$SWIFT_KEY\"
    container: registry
    prefix: /dtr
    chunksize: 5242880"
    ;;
  azure)
    lib_require_tools node
    lib_on_exit "'$ci/stop-azurite' '$T/azurite' >/dev/null 2>&1 || true"
    "$ci/start-azurite" "$T/azurite" >&2 || lib_die "ci/start-azurite could not start Azurite"
    # shellcheck disable=SC1091
    source "$T/azurite/env"
    storage="  azure:
    accountname: \"$AZURE_ACCOUNT_NAME\"
    accountkey: \"$AZURE_ACCOUNT_KEY\"
    serviceurl: $AZURE_ENDPOINT
    container: registry
    chunksize: 5242880"
    ;;
  *) lib_die "unknown backend '$backend' (swift, azure)" ;;
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
