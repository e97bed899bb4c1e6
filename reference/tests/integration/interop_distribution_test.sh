#!/usr/bin/env bash
# Storage interoperability with CNCF distribution 2.8 (Debian's docker-registry), both ways:
#  (a) skopeo pushes to docker-registry on root R; docker-registry stops; `dtr serve` on R
#      (fresh --data, so it indexes R) serves every tag and digest byte-identically, and
#      lists the same tags and catalog.
#  (b) skopeo pushes to `dtr serve` on root R2; dtr stops; docker-registry on R2 serves it
#      all byte-identically.
# The content: OCI images (two tags on one manifest, layers shared between images, a
# nested repository name, a 10 MiB layer), a Docker schema 2 image, an OCI index and a
# Docker manifest list behind tags, a manifest pushed by digest only, and a deleted one.
# dtr runs with --auth none, as docker-registry runs without auth.
#   interop_distribution_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

dtr_bin="${1:?usage: interop_distribution_test.sh PATH/TO/dtr}"
lib_require_tools skopeo docker-registry jq curl sha256sum tar cmp diff
lib_init
T="$LIB_TMP"

sk() { skopeo --insecure-policy "$@"; }
copy() {
  if ! sk copy -q --src-tls-verify=false --dest-tls-verify=false "$@" >"$T/skopeo.out" 2>&1; then
    cat "$T/skopeo.out" >&2
    lib_die "skopeo copy $* failed"
  fi
}
expect_eq() { # expect_eq WHAT GOT WANT
  [ "$2" = "$3" ] || lib_die "$1: got '$2', want '$3'"
}
sha256_of() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }

reset_skopeo_cache

# ---------------------------------------------------------------- content
L="$T/layout"
oci_init "$L"
src="$T/src"
mkdir -p "$src"
layer() { # layer NAME BYTES: a tar layer with one random file; prints its path
  mkdir -p "$src/$1"
  head -c "$2" /dev/urandom >"$src/$1/$1.bin"
  make_tar_layer "$src/$1.tar" "$src/$1"
  echo "$src/$1.tar"
}
lib_log "building OCI layouts"
base="$(layer base 50000)"
app1="$(oci_add_image "$L" app1 amd64 "$base" "$(layer app1 20000)")"
app2="$(oci_add_image "$L" app2 amd64 "$base" "$(layer app2 $((10 * 1024 * 1024)))")"
oci_add_image "$L" dock amd64 "$(layer dock1 40000)" "$(layer dock2 30000)" >/dev/null
amd="$(oci_add_image "$L" "" amd64 "$base" "$(layer amd 25000)")"
arm="$(oci_add_image "$L" "" arm64 "$base" "$(layer arm 26000)")"
multi="$(oci_add_index "$L" multi "amd64=$amd" "arm64=$arm")"
mamd="$(oci_add_image "$L" "" amd64 "$(layer mamd 15000)")"
marm="$(oci_add_image "$L" "" arm64 "$(layer marm 16000)")"
oci_add_index "$L" mdock "amd64=$mamd" "arm64=$marm" >/dev/null
solo="$(oci_add_image "$L" solo amd64 "$(layer solo 12000)")"
gone="$(oci_add_image "$L" gone amd64 "$(layer gone 11000)")"

# Pushes the whole set to registry $1 (host:port). Sets the digests of what skopeo
# converted: DOCK_DIGEST (Docker schema 2), MDOCK_DIGEST (Docker manifest list).
push_all() {
  local r="$1"
  copy --preserve-digests "oci:$L:app1" "docker://$r/app:v1"
  copy --preserve-digests "oci:$L:app1" "docker://$r/app:latest"
  copy --preserve-digests "oci:$L:app2" "docker://$r/app:v2"
  copy --preserve-digests "oci:$L:app1" "docker://$r/deep/nested/repo:1.0"
  copy --format v2s2 --digestfile "$T/digest" "oci:$L:dock" "docker://$r/docker:v2s2"
  DOCK_DIGEST="$(cat "$T/digest")"
  copy --all --preserve-digests "oci:$L:multi" "docker://$r/multi:latest"
  copy --all --format v2s2 --digestfile "$T/digest" "oci:$L:mdock" "docker://$r/multi-docker:latest"
  MDOCK_DIGEST="$(cat "$T/digest")"
  copy --preserve-digests "oci:$L:solo" "docker://$r/bydigest@$solo"
  copy --preserve-digests "oci:$L:gone" "docker://$r/gone:1"
  sk delete --tls-verify=false "docker://$r/gone:1"
  expect_manifest_404 "$r" gone 1
  expect_manifest_404 "$r" gone "$gone"
}

expected_catalog='["app","bydigest","deep/nested/repo","docker","gone","multi","multi-docker"]'
expected_tags() { # expected_tags REPO
  case "$1" in
    app) echo '["latest","v1","v2"]' ;;
    deep/nested/repo) echo '["1.0"]' ;;
    docker) echo '["v2s2"]' ;;
    multi | multi-docker) echo '["latest"]' ;;
  esac
}
all_media_types='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json'

expect_manifest_404() { # expect_manifest_404 HOST:PORT REPO REF
  local status
  status="$(curl -sS -o /dev/null -w '%{http_code}' -H "Accept: $all_media_types" \
    "http://$1/v2/$2/manifests/$3")"
  expect_eq "GET $1/v2/$2/manifests/$3 (deleted)" "$status" 404
}

# Every reference that is checked, with the digest it must resolve to (for what skopeo
# converted, the digest it reported when pushing).
refs() {
  echo "app:v1 $app1"
  echo "app:latest $app1"
  echo "app:v2 $app2"
  echo "app@$app2 $app2"
  echo "deep/nested/repo:1.0 $app1"
  echo "docker:v2s2 $DOCK_DIGEST"
  echo "docker@$DOCK_DIGEST $DOCK_DIGEST"
  echo "multi:latest $multi"
  echo "multi@$arm $arm"
  echo "multi-docker:latest $MDOCK_DIGEST"
  echo "bydigest@$solo $solo"
}

# snapshot_all HOST:PORT OUT: pulls every reference (with --all: index children too) into
# OUT/<n> in skopeo's dir: format, which keeps manifests exactly as served; checks the
# manifest headers and each blob's digest on the way.
snapshot_all() {
  local r="$1" out="$2" ref want n=0 d f got mt ct repo reference
  mkdir -p "$out"
  while read -r ref want; do
    d="$out/$(echo "$ref" | tr '/:@' '___')"
    copy --all --preserve-digests "docker://$r/$ref" "dir:$d"
    got="$(sha256_of "$d/manifest.json")"
    expect_eq "digest of $ref from $r" "$got" "$want"
    for f in "$d"/*; do
      case "$(basename "$f")" in
        version) continue ;;
        manifest.json) continue ;;
        *.manifest.json) expect_eq "instance manifest $f" "$(sha256_of "$f")" \
          "sha256:$(basename "$f" .manifest.json)" ;;
        *) expect_eq "blob $f" "$(sha256_of "$f")" "sha256:$(basename "$f")" ;;
      esac
    done
    # The headers clients rely on, for a GET naming every manifest type.
    mt="$(jq -r .mediaType "$d/manifest.json")"
    if [[ "$ref" == *@* ]]; then
      repo="${ref%@*}" reference="${ref#*@}"
    else
      repo="${ref%:*}" reference="${ref##*:}"
    fi
    curl -fsS -D "$T/headers" -o "$T/body" -H "Accept: $all_media_types" \
      "http://$r/v2/$repo/manifests/$reference" || lib_die "GET manifest $ref from $r failed"
    cmp -s "$T/body" "$d/manifest.json" || lib_die "GET manifest $ref from $r: body differs from skopeo's"
    ct="$(grep -i '^content-type:' "$T/headers" | cut -d' ' -f2- | tr -d '\r')"
    expect_eq "Content-Type of $ref from $r" "$ct" "$mt"
    got="$(grep -i '^docker-content-digest:' "$T/headers" | cut -d' ' -f2- | tr -d '\r')"
    expect_eq "Docker-Content-Digest of $ref from $r" "$got" "$want"
    n=$((n + 1))
  done < <(refs)
  lib_log "ok: $n references pulled from $r, digests verified"
}

# check_against_layout SNAPSHOT: what was pushed with --preserve-digests is byte-identical
# to the original layout.
check_against_layout() {
  local s="$1" ref want d f hex
  while read -r ref want; do
    case "$ref" in docker* | multi-docker*) continue ;; esac
    d="$s/$(echo "$ref" | tr '/:@' '___')"
    cmp -s "$d/manifest.json" "$(oci_blob "$L" "$want")" || lib_die "$ref: manifest differs from the original"
    for hex in $(oci_reachable "$L" "$want" | sort -u | sed 's/^sha256://'); do
      if [ -f "$d/$hex" ]; then
        f="$d/$hex"
      elif [ -f "$d/$hex.manifest.json" ]; then
        f="$d/$hex.manifest.json"
      elif [ "sha256:$hex" = "$want" ]; then
        continue
      else
        lib_die "$ref: blob sha256:$hex missing from the pull"
      fi
      cmp -s "$f" "$L/blobs/sha256/$hex" || lib_die "$ref: sha256:$hex differs from the original"
    done
  done < <(refs)
  lib_log "ok: OCI references byte-identical to the original layouts"
}

# check_listing HOST:PORT: the catalog and every tag list.
check_listing() {
  local r="$1" repo
  expect_eq "catalog of $r" "$(curl -fsS "http://$r/v2/_catalog?n=1000" | jq -c '.repositories | sort')" \
    "$expected_catalog"
  for repo in app deep/nested/repo docker multi multi-docker; do
    expect_eq "tags of $repo on $r" \
      "$(sk list-tags --tls-verify=false "docker://$r/$repo" | jq -c '.Tags | sort')" \
      "$(expected_tags "$repo")"
    expect_eq "tags/list of $repo on $r" \
      "$(curl -fsS "http://$r/v2/$repo/tags/list" | jq -c '[.name, (.tags | sort)]')" \
      "$(jq -c --arg n "$repo" '[$n, .]' <<<"$(expected_tags "$repo")")"
  done
  expect_manifest_404 "$r" gone 1
  expect_manifest_404 "$r" gone "$gone"
  lib_log "ok: catalog and tags on $r"
}

dtr_config() { # dtr_config FILE ROOT
  cat >"$1" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $2
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YAML
}

# ---------------------------------------------------------------- (a) distribution -> dtr
lib_log "(a) push to docker-registry, serve its root with dtr"
lib_start_distribution "$T/dist-a"
D="127.0.0.1:$LIB_PORT"
push_all "$D"
snapshot_all "$D" "$T/snap-a-dist"
check_against_layout "$T/snap-a-dist"
check_listing "$D"
lib_stop_distribution "$T/dist-a"

dtr_config "$T/dtr-a.yml" "$T/dist-a/storage"
lib_start_dtr "$dtr_bin" "$T/dtr-a" --auth none --config "$T/dtr-a.yml"
R="127.0.0.1:$LIB_PORT"
snapshot_all "$R" "$T/snap-a-dtr"
diff -r "$T/snap-a-dist" "$T/snap-a-dtr" >&2 ||
  lib_die "(a) what dtr serves from distribution's root differs from what distribution served"
check_listing "$R"
lib_stop_dtr "$T/dtr-a"

lib_log "(a') docker-registry again on the same root, after dtr served it"
lib_start_distribution "$T/dist-a"
D="127.0.0.1:$LIB_PORT"
snapshot_all "$D" "$T/snap-a-dist2"
diff -r "$T/snap-a-dist" "$T/snap-a-dist2" >&2 || lib_die "(a') distribution's root changed under dtr"
lib_stop_distribution "$T/dist-a"

# ---------------------------------------------------------------- (b) dtr -> distribution
lib_log "(b) push to dtr, serve its root with docker-registry"
reset_skopeo_cache
mkdir -p "$T/dist-b/storage"
dtr_config "$T/dtr-b.yml" "$T/dist-b/storage"
lib_start_dtr "$dtr_bin" "$T/dtr-b" --auth none --config "$T/dtr-b.yml"
R="127.0.0.1:$LIB_PORT"
push_all "$R"
[ -d "$T/dist-b/storage/docker/registry/v2/repositories/app/_manifests" ] ||
  lib_die "(b) dtr did not write distribution's layout under the configured rootdirectory"
snapshot_all "$R" "$T/snap-b-dtr"
check_against_layout "$T/snap-b-dtr"
check_listing "$R"
lib_stop_dtr "$T/dtr-b"

lib_start_distribution "$T/dist-b"
D="127.0.0.1:$LIB_PORT"
snapshot_all "$D" "$T/snap-b-dist"
diff -r "$T/snap-b-dtr" "$T/snap-b-dist" >&2 ||
  lib_die "(b) what distribution serves from dtr's root differs from what dtr served"
check_listing "$D"
lib_stop_distribution "$T/dist-b"

# distribution's garbage collector marks from the manifests it finds in the layout and
# sweeps every other blob: if dtr left out a link, content would vanish here.
lib_log "(b') docker-registry garbage-collect on dtr's root, then everything again"
docker-registry garbage-collect "$T/dist-b/config.yml" >"$T/dist-b/gc.log" 2>&1 ||
  { tail -n 20 "$T/dist-b/gc.log" >&2; lib_die "docker-registry garbage-collect failed on dtr's root"; }
grep -q "blobs marked" "$T/dist-b/gc.log" || lib_die "garbage-collect printed no summary"
lib_log "$(grep -m1 'blobs marked' "$T/dist-b/gc.log")"
lib_start_distribution "$T/dist-b"
D="127.0.0.1:$LIB_PORT"
snapshot_all "$D" "$T/snap-b-dist-gc"
diff -r "$T/snap-b-dtr" "$T/snap-b-dist-gc" >&2 ||
  lib_die "(b') content changed after distribution's garbage collection of dtr's root"
lib_stop_distribution "$T/dist-b"

# ---------------------------------------------------------------- (c) configuration
# `dtr serve --config` reads distribution's config.yml format: the very file docker-registry
# ran from above, and one with a log section but no log.accesslog, must both work (keys
# dtr does not use are ignored, as distribution ignores them).
lib_log "(c) dtr serve --config with distribution's own config files"
cat >"$T/log-level.yml" <<YAML
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $T/dist-b/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YAML
config_failures=()
n=0
for cfg in "$T/dist-a/config.yml" "$T/log-level.yml"; do
  n=$((n + 1))
  if lib_try_start_dtr "$dtr_bin" "$T/dtr-c$n" --auth none --config "$cfg"; then
    R="127.0.0.1:$LIB_PORT"
    check_listing "$R"
    lib_stop_dtr "$T/dtr-c$n"
  else
    config_failures+=("$cfg: $(grep -m1 '^dtr:' "$T/dtr-c$n/dtr.log" || echo 'did not start')")
  fi
done
if [ "${#config_failures[@]}" -gt 0 ]; then
  printf '  %s\n' "${config_failures[@]}" >&2
  lib_die "(c) dtr serve refused ${#config_failures[@]} valid distribution config file(s) (above)"
fi

lib_log "PASS interop_distribution_test"
