#!/usr/bin/env bash
# The registry on S3: `dtr serve --auth none --config FILE` with a `storage: s3:` section
# pointing at OpenStack Swift's s3api (started here with ci/start-swift). skopeo pushes and
# pulls an image with a 100 MiB layer and a small one; what is pulled must be byte-identical,
# a chunked upload must survive a registry restart between its PATCHes,
# the blobs must be in the bucket in distribution's layout, and no upload state may be left.
# The same push and pull against the filesystem driver gives the comparison throughput.
# Then the fault: Swift is stopped in the middle of a push; the client must get a registry
# error (5xx with a message naming the backend) within the timeout and no blob may be
# visible; Swift comes back and a new push works.
#   registry_s3_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
ci="$(cd "$here/../../../ci" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

dtr_bin="${1:?usage: registry_s3_test.sh PATH/TO/dtr}"
lib_require_tools skopeo jq curl sha256sum tar cmp swift-proxy-server memcached
lib_init
T="$LIB_TMP"

sk() { skopeo --insecure-policy "$@"; }
copy() {
  if ! sk copy -q --src-tls-verify=false --dest-tls-verify=false "$@" >"$T/skopeo.out" 2>&1; then
    cat "$T/skopeo.out" >&2
    lib_die "skopeo copy $* failed"
  fi
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
mibps() { awk -v ms="$1" 'BEGIN { printf "%.1f", 100 * 1000 / (ms > 0 ? ms : 1) }'; }

reset_skopeo_cache

# ---------------------------------------------------------------- Swift
swift_dir="$T/swift"
port="$(lib_free_port_run 5)"  # proxy, object, container, account, memcached
lib_on_exit "'$ci/stop-swift' '$swift_dir' >&2"
start_swift() {
  SWIFT_BUCKETS="registry" "$ci/start-swift" "$swift_dir" "$port" >&2 ||
    lib_die "ci/start-swift could not start OpenStack Swift on 127.0.0.1:$port (see above)"
  local n
  for n in proxy account container object memcached; do
    lib_watchdog "$(cat "$swift_dir/$n.pid")" \
      "$([ "$n" = memcached ] && echo memcached || echo "$swift_dir/$n-server.conf")"
  done
}
start_swift
# shellcheck disable=SC1091
source "$swift_dir/env"

# Object names in the bucket, through Swift's own API.
swift_keys() {
  local token
  token="$(curl -sS -D - -o /dev/null -H "X-Auth-User: $SWIFT_USER" -H "X-Auth-Key: $SWIFT_KEY" \
    "$SWIFT_URL" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')"
  curl -fsS -H "X-Auth-Token: $token" "$SWIFT_STORAGE_URL/registry?limit=10000"
}

cat >"$T/s3.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  s3:
    accesskey: "$S3_ACCESS_KEY"
    secretkey: "$S3_SECRET_KEY"
    region: $S3_REGION
    regionendpoint: $S3_ENDPOINT
    bucket: registry
    rootdirectory: /dtr
    chunksize: 10485760
    secure: false
    requesttimeout: 20s
    maxretries: 2
  delete:
    enabled: true
YAML

# ---------------------------------------------------------------- images
L="$T/layout"
oci_init "$L"
src="$T/src"
mkdir -p "$src/small/etc" "$src/big" "$src/big2"
echo "hello from $RANDOM$RANDOM" >"$src/small/etc/motd"
make_tar_layer "$src/small.tar" "$src/small"
small="$(oci_add_image "$L" small amd64 "$src/small.tar")"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$src/big/random.bin"
make_tar_layer "$src/big.tar" "$src/big"
rm -rf "$src/big"
big="$(oci_add_image "$L" big amd64 "$src/big.tar")"
rm -f "$src/big.tar"
big_layer="$(jq -r '.layers[0].digest' "$(oci_blob "$L" "$big")")"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$src/big2/random.bin"
make_tar_layer "$src/big2.tar" "$src/big2"
rm -rf "$src/big2"
big2="$(oci_add_image "$L" big2 amd64 "$src/big2.tar")"
rm -f "$src/big2.tar"
big2_layer="$(jq -r '.layers[0].digest' "$(oci_blob "$L" "$big2")")"

# ---------------------------------------------------------------- push and pull on S3
lib_start_dtr "$dtr_bin" "$T/dtr-s3" --auth none --config "$T/s3.yml"
R="127.0.0.1:$LIB_PORT"
grep -q "s3" "$T/dtr-s3/dtr.log" || true
copy --preserve-digests "oci:$L:small" "docker://$R/it/app:v1"
start=$(date +%s%N)
copy --preserve-digests "oci:$L:big" "docker://$R/it/big:latest"
s3_push_ms="$(ms_since "$start")"
reset_skopeo_cache
start=$(date +%s%N)
copy --preserve-digests "docker://$R/it/big:latest" "oci:$T/pull-s3:big"
s3_pull_ms="$(ms_since "$start")"
assert_layout_has "$L" "$T/pull-s3" "$big"
copy --preserve-digests "docker://$R/it/app:v1" "oci:$T/pull-s3-app:v1"
assert_layout_has "$L" "$T/pull-s3-app" "$small"

keys="$(swift_keys)"
grep -qx "dtr/docker/registry/v2/blobs/sha256/${big_layer:7:2}/${big_layer#sha256:}/data" <<<"$keys" ||
  lib_die "the 100 MiB layer is not at its distribution path in the bucket"
grep -qx "dtr/docker/registry/v2/repositories/it/big/_manifests/tags/latest/current/link" <<<"$keys" ||
  lib_die "the tag link is not at its distribution path in the bucket"
if grep -q '#dtr\.' <<<"$keys"; then
  grep '#dtr\.' <<<"$keys" | head >&2
  lib_die "upload state (segments or sidecars) left in the bucket after the pushes"
fi
lib_log "ok: pushed and pulled through S3 on Swift; bucket holds distribution's layout"

# ---------------------------------------------------------------- an upload across a restart
# Two PATCHes with a registry restart between them: the second appends to the segments the
# first left in the bucket, and the registry re-hashes them from storage.
lib_log "chunked upload across a registry restart"
size=$((12 * 1024 * 1024 + 12345))
first=$((7 * 1024 * 1024))
head -c "$size" /dev/urandom >"$T/chunked.bin"
head -c "$first" "$T/chunked.bin" >"$T/part1"
tail -c +$((first + 1)) "$T/chunked.bin" >"$T/part2"
dgst="sha256:$(sha256sum "$T/chunked.bin" | cut -d' ' -f1)"
upload_path() { tr -d '\r' <"$1" | sed -n 's/^[Ll]ocation: //p' | sed -E 's#^https?://[^/]+##'; }
curl -fsS -D "$T/h0" -o /dev/null -X POST "http://$R/v2/it/chunked/blobs/uploads/"
loc="$(upload_path "$T/h0")"
curl -fsS -D "$T/h1" -o /dev/null -X PATCH -H "Content-Type: application/octet-stream" \
  -H "Content-Range: 0-$((first - 1))" --data-binary @"$T/part1" "http://$R$loc"
loc="$(upload_path "$T/h1")"
lib_stop_dtr "$T/dtr-s3"
lib_start_dtr "$dtr_bin" "$T/dtr-s3" --auth none --config "$T/s3.yml"
R="127.0.0.1:$LIB_PORT"
curl -fsS -D "$T/h2" -o /dev/null -X PATCH -H "Content-Type: application/octet-stream" \
  -H "Content-Range: $first-$((size - 1))" --data-binary @"$T/part2" "http://$R$loc"
loc="$(upload_path "$T/h2")"
case "$loc" in *\?*) sep='&' ;; *) sep='?' ;; esac
code="$(curl -sS -o "$T/put.out" -w '%{http_code}' -X PUT "http://$R$loc${sep}digest=$dgst")"
[ "$code" = 201 ] || { cat "$T/put.out" >&2; lib_die "completing the upload after a restart gave $code"; }
curl -fsS -o "$T/chunked.got" "http://$R/v2/it/chunked/blobs/$dgst"
cmp -s "$T/chunked.bin" "$T/chunked.got" || lib_die "the blob uploaded across a restart differs"
lib_log "ok: a chunked upload resumed across a registry restart"

# ---------------------------------------------------------------- the same on the filesystem
lib_start_dtr "$dtr_bin" "$T/dtr-fs" --auth none
RF="127.0.0.1:$LIB_PORT"
reset_skopeo_cache
start=$(date +%s%N)
copy --preserve-digests "oci:$L:big" "docker://$RF/it/big:latest"
fs_push_ms="$(ms_since "$start")"
reset_skopeo_cache
start=$(date +%s%N)
copy --preserve-digests "docker://$RF/it/big:latest" "oci:$T/pull-fs:big"
fs_pull_ms="$(ms_since "$start")"
assert_layout_has "$L" "$T/pull-fs" "$big"
lib_stop_dtr "$T/dtr-fs"
lib_log "100 MiB image: S3 on Swift push ${s3_push_ms} ms ($(mibps "$s3_push_ms") MiB/s), pull ${s3_pull_ms} ms ($(mibps "$s3_pull_ms") MiB/s); filesystem push ${fs_push_ms} ms ($(mibps "$fs_push_ms") MiB/s), pull ${fs_pull_ms} ms ($(mibps "$fs_pull_ms") MiB/s)"

# ---------------------------------------------------------------- fault: Swift dies mid-push
reset_skopeo_cache
lib_log "fault: stopping Swift in the middle of a 100 MiB push"
start=$(date +%s%N)
sk copy --preserve-digests --src-tls-verify=false --dest-tls-verify=false \
  "oci:$L:big2" "docker://$R/it/big2:latest" >"$T/fault.out" 2>&1 &
push_pid=$!
# Wait until the upload has started (a POST for it in the access log), then a moment more.
for _ in $(seq 1 300); do
  grep -q "POST /v2/it/big2/blobs/uploads/" "$T/dtr-s3/dtr.log" && break
  sleep 0.1
done
sleep 0.5
"$ci/stop-swift" "$swift_dir" --keep-data >&2
rc=0
# Bounded: the registry's S3 requests time out after 20 s with 2 retries.
for _ in $(seq 1 1200); do
  kill -0 "$push_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$push_pid" 2>/dev/null; then
  kill "$push_pid" 2>/dev/null || true
  lib_die "skopeo still pushing 120 s after Swift was stopped: the registry hung"
fi
wait "$push_pid" || rc=$?
fault_ms="$(ms_since "$start")"
cat "$T/fault.out" >&2
[ "$rc" -ne 0 ] || lib_die "the push succeeded although Swift was stopped in the middle"
# The registry answered the upload with a 5xx (skopeo may report it, or the broken pipe of a
# body the registry stopped reading after answering).
grep -qE "\"(PATCH|PUT) /v2/it/big2/blobs/uploads/[^\"]*\" 5[0-9][0-9]" "$T/dtr-s3/dtr.log" ||
  lib_die "the registry did not answer the interrupted upload with a 5xx"
lib_log "ok: the push failed after ${fault_ms} ms with a registry 5xx"
# What a client reads while the backend is down: a 503 whose message names it, in time.
start=$(date +%s%N)
code="$(curl -s -o "$T/down.json" -w '%{http_code}' --max-time 60 -X POST \
  "http://$R/v2/it/down/blobs/uploads/" || true)"
down_ms="$(ms_since "$start")"
cat "$T/down.json" >&2
echo >&2
[ "$code" = 503 ] || lib_die "starting an upload with Swift down answered $code, want 503"
grep -q "127.0.0.1:$port" "$T/down.json" ||
  lib_die "the 503's message does not name the S3 backend (127.0.0.1:$port)"
lib_log "ok: with Swift down the registry answers 503 naming the backend in ${down_ms} ms"
code="$(curl -s -o "$T/health.json" -w '%{http_code}' --max-time 30 "http://$R/v2/it/big2/blobs/$big2_layer" || true)"
[ "$code" != 200 ] || lib_die "the half-pushed layer is visible while Swift is down"

start_swift
code="$(curl -s -o /dev/null -w '%{http_code}' -I --max-time 30 "http://$R/v2/it/big2/blobs/$big2_layer")"
[ "$code" = 404 ] || lib_die "after the failed push, HEAD of its layer gave $code, want 404"
reset_skopeo_cache
copy --preserve-digests "oci:$L:big2" "docker://$R/it/big2:latest"
reset_skopeo_cache
copy --preserve-digests "docker://$R/it/big2:latest" "oci:$T/pull-big2:big2"
assert_layout_has "$L" "$T/pull-big2" "$big2"
lib_log "ok: after Swift came back a new push and pull work"
lib_stop_dtr "$T/dtr-s3"
