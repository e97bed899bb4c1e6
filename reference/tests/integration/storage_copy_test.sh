#!/usr/bin/env bash
# `dtr storage copy`: an operator moves a registry from the filesystem to S3 (OpenStack Swift's s3api)
# without losing tags. skopeo pushes two images to dtr serve on the filesystem; the copy
# refuses a source blob whose bytes do not match its digest (nothing written for it, exit
# non-zero); once the blob is repaired the copy is run again and resumes (what is already
# there is skipped); a third run copies nothing; then dtr serve on S3 (a fresh index, built
# from the bucket) serves every tag and skopeo pulls them back byte for byte.
#   storage_copy_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"
ci="$(cd "$here/../../../ci" && pwd)"

dtr_bin="${1:?usage: storage_copy_test.sh PATH/TO/dtr}"
lib_require_tools skopeo jq curl sha256sum tar cmp swift-proxy-server memcached
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

# OpenStack Swift's s3api: s3rver drops folders that hold only folders from delimiter
# listings, so a registry could not even list its repositories there.
swift_dir="$T/swift"
port="$(lib_free_port_run 5)"  # proxy, object, container, account, memcached
lib_on_exit "'$ci/stop-swift' '$swift_dir' >&2"
SWIFT_BUCKETS="registry" "$ci/start-swift" "$swift_dir" "$port" >&2 ||
  lib_die "ci/start-swift could not start OpenStack Swift on 127.0.0.1:$port (see above)"
# shellcheck disable=SC1091
source "$swift_dir/env"
# Object names in the bucket, through Swift's own API.
swift_token() {
  curl -sS -D - -o /dev/null -H "X-Auth-User: $SWIFT_USER" -H "X-Auth-Key: $SWIFT_KEY" \
    "$SWIFT_URL" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p'
}
swift_keys() {
  curl -fsS -H "X-Auth-Token: $(swift_token)" "$SWIFT_STORAGE_URL/registry?limit=10000"
}

cat >"$T/fs.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $T/fs
YAML
cat >"$T/s3.yml" <<YAML
version: 0.1
storage:
  s3:
    accesskey: "$S3_ACCESS_KEY"
    secretkey: "$S3_SECRET_KEY"
    region: $S3_REGION
    regionendpoint: $S3_ENDPOINT
    bucket: registry
    rootdirectory: /copied
    chunksize: 5242880
    secure: false
YAML

lib_log "two images pushed to dtr serve on the filesystem"
L="$T/layout"
oci_init "$L"
mkdir -p "$T/src/a" "$T/src/b"
head -c $((12 * 1024 * 1024)) /dev/urandom >"$T/src/a/big.bin"
echo "small $RANDOM$RANDOM" >"$T/src/b/motd"
make_tar_layer "$T/a.tar" "$T/src/a"
make_tar_layer "$T/b.tar" "$T/src/b"
one="$(oci_add_image "$L" one amd64 "$T/a.tar" "$T/b.tar")"
two="$(oci_add_image "$L" two arm64 "$T/b.tar")"
lib_start_dtr "$dtr_bin" "$T/dtr-fs" --auth none --config "$T/fs.yml"
R="127.0.0.1:$LIB_PORT"
copy "oci:$L:one" "docker://$R/team/app:one"
copy "oci:$L:two" "docker://$R/team/app:two"
copy "oci:$L:two" "docker://$R/other/tool:latest"
kill "$LIB_PID"
wait "$LIB_PID" 2>/dev/null || true

lib_log "a source blob that does not match its digest stops the copy; nothing is written for it"
big_layer="$(jq -r '.layers[0].digest' "$(oci_blob "$L" "$one")")"
big_hex="${big_layer#sha256:}"
big_file="$T/fs/docker/registry/v2/blobs/sha256/${big_hex:0:2}/$big_hex/data"
[ -f "$big_file" ] || lib_die "the big layer is not where distribution's layout puts it"
cp "$big_file" "$T/big.good"
printf 'X' | dd of="$big_file" bs=1 seek=1000 conv=notrunc status=none
rc=0
"$dtr_bin" storage copy --from "$T/fs.yml" --to "$T/s3.yml" >"$T/copy1.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || { cat "$T/copy1.out" >&2; lib_die "the copy accepted a corrupt blob"; }
grep -q "does not match its digest" "$T/copy1.out" || {
  cat "$T/copy1.out" >&2
  lib_die "the copy failed without saying which blob is bad"
}
if swift_keys | grep -q "$big_hex"; then
  lib_die "the corrupt blob (or a piece of it) was written to the bucket"
fi
# Blobs come first and tags last: a copy that failed on a blob has copied no tag.
if swift_keys | grep -q "_manifests/tags/"; then
  lib_die "tags were copied although a blob failed: the order (tags last) is wrong"
fi

lib_log "repaired, the copy is run again and resumes"
cp "$T/big.good" "$big_file"
"$dtr_bin" storage copy --from "$T/fs.yml" --to "$T/s3.yml" >"$T/copy2.out" 2>"$T/copy2.err" || {
  cat "$T/copy2.out" "$T/copy2.err" >&2
  lib_die "the second copy failed"
}
cat "$T/copy2.out" >&2
# What the failed run had written depends on the order it met the blobs (the corrupt one
# may come first, and then nothing was written): the second run's skips are not asserted;
# that a finished copy is not repeated is (the third run).
"$dtr_bin" storage copy --from "$T/fs.yml" --to "$T/s3.yml" --verify >"$T/copy3.out" 2>/dev/null ||
  lib_die "the third copy failed"
grep -q "^copied 0 files" "$T/copy3.out" || lib_die "a third run copied again: $(cat "$T/copy3.out")"
grep -q "verified [1-9]" "$T/copy3.out" || lib_die "--verify verified nothing: $(cat "$T/copy3.out")"

lib_log "dtr serve on S3 (index built from the bucket) serves every tag, byte for byte"
lib_start_dtr "$dtr_bin" "$T/dtr-s3" --auth none --config "$T/s3.yml"
R="127.0.0.1:$LIB_PORT"
tags="$(curl -fsS "http://$R/v2/team/app/tags/list" | jq -c '.tags')"
[ "$tags" = '["one","two"]' ] || lib_die "tags on S3: $tags"
copy "docker://$R/team/app:one" "oci:$T/p1:one"
assert_layout_has "$L" "$T/p1" "$one"
copy "docker://$R/team/app:two" "oci:$T/p2:two"
assert_layout_has "$L" "$T/p2" "$two"
copy "docker://$R/other/tool:latest" "oci:$T/p3:latest"
assert_layout_has "$L" "$T/p3" "$two"
lib_log "ok: filesystem to S3 with dtr storage copy, verified and resumable"
