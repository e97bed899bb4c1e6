#!/usr/bin/env bash
# A real client against `dtr serve`: skopeo pushes OCI image layouts built by hand, inspects
# them, lists tags, pulls by tag and by digest, copies across repositories (a blob mount),
# converts to Docker schema 2, pushes and pulls a multi-arch index, and deletes. Whatever
# is pulled must be byte-identical to what was pushed. One image has a 100 MiB layer, one
# has 50 layers.
# dtr runs with --auth none: this is about the protocol and storage, not authentication.
#   skopeo_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

dtr_bin="${1:?usage: skopeo_test.sh PATH/TO/dtr}"
lib_require_tools skopeo umoci jq curl sha256sum tar cmp gzip
lib_init
T="$LIB_TMP"

sk() { skopeo --insecure-policy "$@"; }
# Quiet copies: skopeo's progress goes to a log, shown only when the copy fails.
copy() {
  if ! sk copy -q --src-tls-verify=false --dest-tls-verify=false "$@" >"$T/skopeo.out" 2>&1; then
    cat "$T/skopeo.out" >&2
    lib_die "skopeo copy $* failed"
  fi
}
expect_eq() { # expect_eq WHAT GOT WANT
  [ "$2" = "$3" ] || lib_die "$1: got '$2', want '$3'"
}

# skopeo remembers where it has seen blobs; start from nothing so uploads are real.
reset_skopeo_cache

# ---------------------------------------------------------------- image layouts by hand
L="$T/layout"
oci_init "$L"
src="$T/src"
mkdir -p "$src"

lib_log "building OCI layouts (one 100 MiB layer, 50 layers, a multi-arch index)"
mkdir -p "$src/small1/etc" "$src/small2/usr/bin"
echo "hello from $RANDOM$RANDOM" >"$src/small1/etc/motd"
head -c 300000 /dev/urandom >"$src/small2/usr/bin/tool"
make_tar_layer "$src/small1.tar" "$src/small1"
make_tar_layer "$src/small2.tar" "$src/small2"
small="$(oci_add_image "$L" small amd64 "$src/small1.tar" "$src/small2.tar")"

mkdir -p "$src/big"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$src/big/random.bin"
make_tar_layer "$src/big.tar" "$src/big"
rm -rf "$src/big"
big="$(oci_add_image "$L" big amd64 "$src/big.tar")"
rm -f "$src/big.tar"
big_layer="$(jq -r '.layers[0].digest' "$(oci_blob "$L" "$big")")"

many_layers=()
for i in $(seq -w 1 50); do
  mkdir -p "$src/m$i/layer$i"
  head -c $((1000 + 97 * 10#$i)) /dev/urandom >"$src/m$i/layer$i/file"
  make_tar_layer "$src/m$i.tar" "$src/m$i"
  many_layers+=("$src/m$i.tar")
done
many="$(oci_add_image "$L" many amd64 "${many_layers[@]}")"
expect_eq "layers in the 50-layer manifest" \
  "$(jq '.layers | length' "$(oci_blob "$L" "$many")")" 50

mkdir -p "$src/amd" "$src/arm"
head -c 20000 /dev/urandom >"$src/amd/amd64.bin"
head -c 30000 /dev/urandom >"$src/arm/arm64.bin"
make_tar_layer "$src/amd.tar" "$src/amd"
make_tar_layer "$src/arm.tar" "$src/arm"
amd="$(oci_add_image "$L" "" amd64 "$src/small1.tar" "$src/amd.tar")"
arm="$(oci_add_image "$L" "" arm64 "$src/small1.tar" "$src/arm.tar")"
multi="$(oci_add_index "$L" multi "amd64=$amd" "arm64=$arm")"

# An image skopeo compresses on the fly when pushing (chunked PATCH bodies).
# Its layers are new to the registry, or skopeo would reuse the uncompressed ones.
mkdir -p "$src/gz1" "$src/gz2"
head -c 200000 /dev/urandom | base64 >"$src/gz1/text.b64"
head -c 300000 /dev/urandom >"$src/gz2/random.bin"
make_tar_layer "$src/gz1.tar" "$src/gz1"
make_tar_layer "$src/gz2.tar" "$src/gz2"
gzimg="$(oci_add_image "$L" gz amd64 "$src/gz1.tar" "$src/gz2.tar")"
# And one converted to Docker schema 2 (compressed on the way, so new layers too).
mkdir -p "$src/d1" "$src/d2"
head -c 100000 /dev/urandom | base64 >"$src/d1/text.b64"
head -c 200000 /dev/urandom >"$src/d2/random.bin"
make_tar_layer "$src/d1.tar" "$src/d1"
make_tar_layer "$src/d2.tar" "$src/d2"
dock="$(oci_add_image "$L" dock amd64 "$src/d1.tar" "$src/d2.tar")"

# And one built by umoci (its own gzip layer and config), in a layout of its own.
U="$T/umoci-layout"
mkdir -p "$src/u/etc"
echo "built by umoci $RANDOM$RANDOM" >"$src/u/etc/umoci.txt"
umoci_rootless=()
[ "$(id -u)" -eq 0 ] || umoci_rootless=(--rootless)
umoci init --layout "$U"
umoci new --image "$U:base"
umoci insert "${umoci_rootless[@]}" --image "$U:base" "$src/u/etc/umoci.txt" /etc/umoci.txt
umoci config "${umoci_rootless[@]}" --image "$U:base" --config.env FOO=bar --config.cmd /bin/true
umoci_img="$(oci_ref_digest "$U" base)"
[ -n "$umoci_img" ] || lib_die "umoci built no image tagged base"

# ---------------------------------------------------------------- the registry
lib_start_dtr "$dtr_bin" "$T/dtr" --auth none
R="127.0.0.1:$LIB_PORT"
log="$T/dtr/dtr.log"
ns="it$(date +%s)$RANDOM"

# ---------------------------------------------------------------- push
lib_log "push"
start=$(date +%s%N)
copy --preserve-digests "oci:$L:small" "docker://$R/$ns/app:v1"
copy --preserve-digests "oci:$L:small" "docker://$R/$ns/app:v2"
copy --preserve-digests "oci:$L:big" "docker://$R/$ns/big:latest"
lib_log "pushed the 100 MiB image in $((($(date +%s%N) - start) / 1000000)) ms"
copy --preserve-digests "oci:$L:many" "docker://$R/$ns/many:latest"
copy --all --preserve-digests "oci:$L:multi" "docker://$R/$ns/multi:latest"
copy "oci:$L:gz" "docker://$R/$ns/gz:latest"
copy --preserve-digests "oci:$U:base" "docker://$R/$ns/umoci:base"
# The big layer really went up: one PATCH of at least 100 MiB.
grep -qE "\"PATCH /v2/$ns/big/blobs/uploads/[^\"]*\" 202 in=1[0-9]{8}" "$log" ||
  lib_die "no 100 MiB PATCH to $ns/big in the access log"

# ---------------------------------------------------------------- inspect
lib_log "inspect"
sk inspect --tls-verify=false --raw "docker://$R/$ns/app:v1" >"$T/raw"
cmp -s "$T/raw" "$(oci_blob "$L" "$small")" ||
  lib_die "skopeo inspect --raw app:v1 differs from the pushed manifest"
sk inspect --tls-verify=false --config --raw "docker://$R/$ns/app:v1" >"$T/rawcfg"
cmp -s "$T/rawcfg" "$(oci_blob "$L" "$(jq -r .config.digest "$(oci_blob "$L" "$small")")")" ||
  lib_die "skopeo inspect --config --raw app:v1 differs from the pushed config"
sk inspect --tls-verify=false "docker://$R/$ns/app:v1" >"$T/inspect.json"
expect_eq "inspect Digest" "$(jq -r .Digest "$T/inspect.json")" "$small"
expect_eq "inspect Layers" "$(jq -c .Layers "$T/inspect.json")" \
  "$(jq -c '[.layers[].digest]' "$(oci_blob "$L" "$small")")"
expect_eq "inspect Architecture/Os" "$(jq -r '.Architecture + "/" + .Os' "$T/inspect.json")" \
  "amd64/linux"
expect_eq "inspect RepoTags" "$(jq -c '.RepoTags | sort' "$T/inspect.json")" '["v1","v2"]'
sk inspect --tls-verify=false --raw "docker://$R/$ns/multi:latest" >"$T/raw"
cmp -s "$T/raw" "$(oci_blob "$L" "$multi")" ||
  lib_die "skopeo inspect --raw multi:latest differs from the pushed index"
sk inspect --tls-verify=false --raw "docker://$R/$ns/many@$many" >"$T/raw"
cmp -s "$T/raw" "$(oci_blob "$L" "$many")" ||
  lib_die "skopeo inspect --raw many@digest differs from the pushed manifest"

# ---------------------------------------------------------------- list tags
lib_log "list-tags"
expect_eq "list-tags app" \
  "$(sk list-tags --tls-verify=false "docker://$R/$ns/app" | jq -c '.Tags | sort')" '["v1","v2"]'
expect_eq "list-tags multi" \
  "$(sk list-tags --tls-verify=false "docker://$R/$ns/multi" | jq -c '.Tags')" '["latest"]'

# ---------------------------------------------------------------- pull
lib_log "pull by tag and by digest"
start=$(date +%s%N)
copy --preserve-digests "docker://$R/$ns/big:latest" "oci:$T/pull-big:big"
lib_log "pulled the 100 MiB image in $((($(date +%s%N) - start) / 1000000)) ms"
assert_layout_has "$L" "$T/pull-big" "$big"
expect_eq "pulled big digest" "$(oci_ref_digest "$T/pull-big" big)" "$big"
copy --preserve-digests "docker://$R/$ns/app:v2" "oci:$T/pull-app:v2"
assert_layout_has "$L" "$T/pull-app" "$small"
expect_eq "pulled app:v2 digest" "$(oci_ref_digest "$T/pull-app" v2)" "$small"
copy --preserve-digests "docker://$R/$ns/many:latest" "oci:$T/pull-many:many"
assert_layout_has "$L" "$T/pull-many" "$many"
copy --preserve-digests "docker://$R/$ns/many@$many" "oci:$T/pull-many-d:bydigest"
assert_layout_has "$L" "$T/pull-many-d" "$many"
expect_eq "pulled many@digest" "$(oci_ref_digest "$T/pull-many-d" bydigest)" "$many"
copy --preserve-digests "docker://$R/$ns/app@$small" "oci:$T/pull-app-d:bydigest"
assert_layout_has "$L" "$T/pull-app-d" "$small"

# umoci reads what skopeo pulled: the 50 layers unpack to the 50 original files.
umoci unpack "${umoci_rootless[@]}" --image "$T/pull-many:many" "$T/bundle-many" >/dev/null
for i in $(seq -w 1 50); do
  cmp -s "$T/bundle-many/rootfs/layer$i/file" "$src/m$i/layer$i/file" ||
    lib_die "umoci unpack of the pulled 50-layer image: layer$i/file differs from the original"
done
rm -rf "$T/bundle-many"
copy --preserve-digests "docker://$R/$ns/umoci:base" "oci:$T/pull-umoci:base"
assert_layout_has "$U" "$T/pull-umoci" "$umoci_img"
umoci unpack "${umoci_rootless[@]}" --image "$T/pull-umoci:base" "$T/bundle-umoci" >/dev/null
cmp -s "$T/bundle-umoci/rootfs/etc/umoci.txt" "$src/u/etc/umoci.txt" ||
  lib_die "umoci unpack of the pulled umoci image: /etc/umoci.txt differs"
expect_eq "umoci image env" "$(jq -c '.process.env | map(select(startswith("FOO=")))' \
  "$T/bundle-umoci/config.json")" '["FOO=bar"]'

lib_log "multi-arch index: pull all, and one platform by digest"
copy --all --preserve-digests "docker://$R/$ns/multi:latest" "oci:$T/pull-multi:multi"
assert_layout_has "$L" "$T/pull-multi" "$multi"
expect_eq "pulled multi digest" "$(oci_ref_digest "$T/pull-multi" multi)" "$multi"
copy --preserve-digests "docker://$R/$ns/multi@$arm" "oci:$T/pull-arm:arm"
assert_layout_has "$L" "$T/pull-arm" "$arm"
copy --all --preserve-digests "docker://$R/$ns/multi@$multi" "oci:$T/pull-multi-d:multi"
assert_layout_has "$L" "$T/pull-multi-d" "$multi"

lib_log "the image skopeo compressed on push"
sk inspect --tls-verify=false --raw "docker://$R/$ns/gz:latest" >"$T/gz-manifest"
gz_digest="sha256:$(sha256sum <"$T/gz-manifest" | cut -d' ' -f1)"
[ "$gz_digest" != "$gzimg" ] || lib_die "skopeo did not compress the gz image (test premise)"
copy --preserve-digests "docker://$R/$ns/gz:latest" "oci:$T/pull-gz:gz"
expect_eq "pulled gz digest" "$(oci_ref_digest "$T/pull-gz" gz)" "$gz_digest"
cmp -s "$T/gz-manifest" "$(oci_blob "$T/pull-gz" "$gz_digest")" || lib_die "gz manifest differs"
# Every compressed layer decompresses to the original uncompressed layer.
mapfile -t orig_layers < <(jq -r '.layers[].digest' "$(oci_blob "$L" "$gzimg")")
mapfile -t gz_layers < <(jq -r '.layers[].digest' "$T/gz-manifest")
expect_eq "gz layer count" "${#gz_layers[@]}" "${#orig_layers[@]}"
for i in "${!gz_layers[@]}"; do
  expect_eq "gz layer $i mediaType" \
    "$(jq -r ".layers[$i].mediaType" "$T/gz-manifest")" "application/vnd.oci.image.layer.v1.tar+gzip"
  gzip -dc "$(oci_blob "$T/pull-gz" "${gz_layers[$i]}")" | cmp -s - "$(oci_blob "$L" "${orig_layers[$i]}")" ||
    lib_die "gz layer $i (${gz_layers[$i]}) does not decompress to ${orig_layers[$i]}"
done
assert_layout_has "$T/pull-gz" "$T/pull-gz" "$gz_digest"

# ---------------------------------------------------------------- copy across repositories
lib_log "copy across repositories (blob mount)"
copy --preserve-digests "docker://$R/$ns/big:latest" "docker://$R/$ns/big-copy:latest"
grep -qE "\"POST /v2/$ns/big-copy/blobs/uploads/\" 201 " "$log" ||
  lib_die "no cross-repository mount (POST /v2/$ns/big-copy/blobs/uploads/?mount=... answered 201) in the access log"
if grep -qE "\"PATCH /v2/$ns/big-copy/blobs/uploads/[^\"]*\" [0-9]+ in=[0-9]{8,}" "$log"; then
  lib_die "the 100 MiB layer was uploaded again to $ns/big-copy instead of mounted"
fi
curl -fsS -o /dev/null -I "http://$R/v2/$ns/big-copy/blobs/$big_layer" ||
  lib_die "mounted blob $big_layer not visible in $ns/big-copy"
copy --preserve-digests "docker://$R/$ns/big-copy:latest" "oci:$T/pull-big-copy:big"
assert_layout_has "$L" "$T/pull-big-copy" "$big"
rm -rf "$T/pull-big" "$T/pull-big-copy"

# ---------------------------------------------------------------- Docker schema 2
lib_log "convert to Docker schema 2"
copy --format v2s2 "oci:$L:dock" "docker://$R/$ns/docker:latest"
sk inspect --tls-verify=false --raw "docker://$R/$ns/docker:latest" >"$T/v2s2"
v2s2_mt="application/vnd.docker.distribution.manifest.v2+json"
expect_eq "v2s2 mediaType" "$(jq -r .mediaType "$T/v2s2")" "$v2s2_mt"
expect_eq "v2s2 config mediaType" "$(jq -r .config.mediaType "$T/v2s2")" \
  "application/vnd.docker.container.image.v1+json"
expect_eq "v2s2 layer mediaTypes" "$(jq -c '[.layers[].mediaType] | unique' "$T/v2s2")" \
  '["application/vnd.docker.image.rootfs.diff.tar.gzip"]'
ct="$(curl -fsS -o /dev/null -w '%{content_type}' -H "Accept: $v2s2_mt" \
  "http://$R/v2/$ns/docker/manifests/latest")"
expect_eq "Content-Type of the v2s2 manifest" "$ct" "$v2s2_mt"
copy "docker://$R/$ns/docker:latest" "dir:$T/pull-docker"
cmp -s "$T/v2s2" "$T/pull-docker/manifest.json" || lib_die "pulled v2s2 manifest differs"
for d in $(jq -r '.config.digest, .layers[].digest' "$T/v2s2"); do
  f="$T/pull-docker/${d#sha256:}"
  [ -f "$f" ] || lib_die "v2s2 pull lacks $d"
  expect_eq "sha256 of pulled v2s2 blob" "sha256:$(sha256sum <"$f" | cut -d' ' -f1)" "$d"
done
mapfile -t v2_layers < <(jq -r '.layers[].digest' "$T/v2s2")
mapfile -t orig_layers < <(jq -r '.layers[].digest' "$(oci_blob "$L" "$dock")")
expect_eq "v2s2 layer count" "${#v2_layers[@]}" "${#orig_layers[@]}"
for i in "${!v2_layers[@]}"; do
  gzip -dc "$T/pull-docker/${v2_layers[$i]#sha256:}" | cmp -s - "$(oci_blob "$L" "${orig_layers[$i]}")" ||
    lib_die "v2s2 layer $i does not decompress to the original ${orig_layers[$i]}"
done
expect_eq "v2s2 config diff_ids" \
  "$(jq -c .rootfs.diff_ids "$T/pull-docker/$(jq -r '.config.digest | ltrimstr("sha256:")' "$T/v2s2")")" \
  "$(jq -c '[.layers[].digest]' "$(oci_blob "$L" "$dock")")"

# ---------------------------------------------------------------- delete
lib_log "delete"
expect_404() { # expect_404 URL_PATH CODE
  local status
  status="$(curl -sS -o "$T/body" -w '%{http_code}' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' \
    "http://$R$1")"
  expect_eq "GET $1 status" "$status" 404
  jq -e --arg c "$2" '.errors[0].code == $c' "$T/body" >/dev/null ||
    lib_die "GET $1: want error code $2, body: $(head -c 300 "$T/body")"
}
sk delete --tls-verify=false "docker://$R/$ns/app:v1"
expect_404 "/v2/$ns/app/manifests/$small" MANIFEST_UNKNOWN
expect_404 "/v2/$ns/app/manifests/v1" MANIFEST_UNKNOWN
# Like distribution: deleting a manifest removes every tag that pointed at it.
expect_404 "/v2/$ns/app/manifests/v2" MANIFEST_UNKNOWN
if sk inspect --tls-verify=false --raw "docker://$R/$ns/app:v1" >/dev/null 2>&1; then
  lib_die "skopeo inspect still finds $ns/app:v1 after skopeo delete"
fi
sk delete --tls-verify=false "docker://$R/$ns/multi@$multi"
expect_404 "/v2/$ns/multi/manifests/$multi" MANIFEST_UNKNOWN
expect_404 "/v2/$ns/multi/manifests/latest" MANIFEST_UNKNOWN
# The platform manifests were not deleted with the index.
curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://$R/v2/$ns/multi/manifests/$arm" || lib_die "deleting the index removed a child manifest"
# Other repositories are untouched.
copy --preserve-digests "docker://$R/$ns/many:latest" "oci:$T/pull-many2:many"
assert_layout_has "$L" "$T/pull-many2" "$many"

lib_stop_dtr "$T/dtr"
lib_log "PASS skopeo_test"
