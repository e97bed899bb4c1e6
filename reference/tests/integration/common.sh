# shellcheck shell=bash
# Helpers shared by the integration tests: OCI image layouts built by hand (blobs +
# index.json, no tool between us and the bytes), and byte-for-byte comparison of layouts.
# Source it after ci/lib.sh. Needs jq, sha256sum, tar, cmp.

# oci_init LAYOUT: an empty OCI image layout.
oci_init() {
  mkdir -p "$1/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
  printf '{"schemaVersion":2,"manifests":[]}' >"$1/index.json"
}

# oci_put_file LAYOUT FILE: stores FILE as a blob; prints its digest.
oci_put_file() {
  local hex
  hex="$(sha256sum "$2" | cut -d' ' -f1)"
  cp "$2" "$1/blobs/sha256/$hex"
  echo "sha256:$hex"
}

# oci_put_bytes LAYOUT STRING: stores STRING (exactly, no newline) as a blob; prints its digest.
oci_put_bytes() {
  local tmp hex
  tmp="$1/blobs/.tmp.$$"
  printf '%s' "$2" >"$tmp"
  hex="$(sha256sum "$tmp" | cut -d' ' -f1)"
  mv "$tmp" "$1/blobs/sha256/$hex"
  echo "sha256:$hex"
}

# oci_blob LAYOUT DIGEST: path of a blob.
oci_blob() { echo "$1/blobs/sha256/${2#sha256:}"; }

# oci_size LAYOUT DIGEST: its size in bytes.
oci_size() { stat -c %s "$(oci_blob "$1" "$2")"; }

# oci_tag LAYOUT TAG DIGEST MEDIATYPE: adds (or replaces) the index.json entry named TAG.
oci_tag() {
  local layout="$1" tag="$2" digest="$3" mt="$4" size tmp
  size="$(oci_size "$layout" "$digest")"
  tmp="$layout/index.json.tmp"
  jq -c --arg t "$tag" --arg d "$digest" --arg m "$mt" --argjson s "$size" '
    .manifests |= (map(select(.annotations["org.opencontainers.image.ref.name"] != $t))
                   + [{mediaType: $m, digest: $d, size: $s,
                       annotations: {"org.opencontainers.image.ref.name": $t}}])' \
    "$layout/index.json" >"$tmp"
  mv "$tmp" "$layout/index.json"
}

# make_tar_layer OUT DIR: a reproducible, uncompressed tar of DIR's contents.
make_tar_layer() {
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$1" -C "$2" .
}

# oci_add_image LAYOUT TAG ARCH LAYER_TAR...: an OCI image manifest over uncompressed tar
# layers (diff_id = digest), with a config for linux/ARCH. TAG "" leaves it out of
# index.json (a child of an index). Prints the manifest digest.
oci_add_image() {
  local layout="$1" tag="$2" arch="$3"
  shift 3
  local pairs="" layers_json diff_ids f d config cfg_d manifest m_d
  for f in "$@"; do
    d="$(oci_put_file "$layout" "$f")"
    pairs+="$d $(oci_size "$layout" "$d")"$'\n'
  done
  layers_json="$(jq -Rsc 'split("\n") | map(select(length > 0) | split(" ") |
      {mediaType: "application/vnd.oci.image.layer.v1.tar", digest: .[0], size: (.[1] | tonumber)})' \
    <<<"$pairs")"
  diff_ids="$(jq -c 'map(.digest)' <<<"$layers_json")"
  config="$(jq -cn --arg a "$arch" --argjson ids "$diff_ids" --arg n "$RANDOM$RANDOM" '{
      created: "2024-01-01T00:00:00Z", architecture: $a, os: "linux",
      config: {Env: ["PATH=/usr/bin:/bin"], Labels: {"test.nonce": $n}},
      rootfs: {type: "layers", diff_ids: $ids},
      history: [$ids[] | {created: "2024-01-01T00:00:00Z", created_by: "integration test"}]}')"
  cfg_d="$(oci_put_bytes "$layout" "$config")"
  manifest="$(jq -cn --arg cd "$cfg_d" --argjson cs "$(oci_size "$layout" "$cfg_d")" --argjson l "$layers_json" '{
      schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: $l}')"
  m_d="$(oci_put_bytes "$layout" "$manifest")"
  if [ -n "$tag" ]; then
    oci_tag "$layout" "$tag" "$m_d" "application/vnd.oci.image.manifest.v1+json"
  fi
  echo "$m_d"
}

# oci_add_index LAYOUT TAG ARCH=DIGEST...: an OCI image index over manifests already in
# LAYOUT, one per linux/ARCH, tagged TAG in index.json. Prints the index digest.
oci_add_index() {
  local layout="$1" tag="$2"
  shift 2
  local entries="[]" pair arch d s index i_d
  for pair in "$@"; do
    arch="${pair%%=*}"
    d="${pair#*=}"
    s="$(oci_size "$layout" "$d")"
    entries="$(jq -c --arg d "$d" --argjson s "$s" --arg a "$arch" \
      '. + [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
             platform: {architecture: $a, os: "linux"}}]' <<<"$entries")"
  done
  index="$(jq -cn --argjson m "$entries" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: $m}')"
  i_d="$(oci_put_bytes "$layout" "$index")"
  oci_tag "$layout" "$tag" "$i_d" "application/vnd.oci.image.index.v1+json"
  echo "$i_d"
}

# oci_reachable LAYOUT DIGEST: DIGEST and every blob it names, recursively (one a line).
oci_reachable() {
  local layout="$1" digest="$2" blob mt child
  blob="$(oci_blob "$layout" "$digest")"
  [ -f "$blob" ] || lib_die "blob $digest missing from layout $layout"
  echo "$digest"
  mt="$(jq -r '.mediaType // ""' "$blob")"
  case "$mt" in
    application/vnd.oci.image.index.v1+json | application/vnd.docker.distribution.manifest.list.v2+json)
      for child in $(jq -r '.manifests[].digest' "$blob"); do
        oci_reachable "$layout" "$child"
      done
      ;;
    *)
      jq -r '.config.digest, .layers[].digest' "$blob"
      ;;
  esac
}

# oci_ref_digest LAYOUT TAG: the digest index.json names TAG by ("" if none).
oci_ref_digest() {
  jq -r --arg t "$2" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)
                        | .digest][0] // ""' "$1/index.json"
}

# assert_layout_has ORIG PULLED DIGEST: every blob DIGEST reaches in ORIG is in PULLED
# byte for byte, and every blob in PULLED is intact (its sha256 is its name).
assert_layout_has() {
  local orig="$1" pulled="$2" digest="$3" d n=0 f hex
  for d in $(oci_reachable "$orig" "$digest" | sort -u); do
    [ -f "$(oci_blob "$pulled" "$d")" ] || lib_die "pulled layout $pulled lacks blob $d (of $digest)"
    cmp -s "$(oci_blob "$orig" "$d")" "$(oci_blob "$pulled" "$d")" ||
      lib_die "blob $d differs between $orig and $pulled"
    n=$((n + 1))
  done
  for f in "$pulled"/blobs/sha256/*; do
    hex="$(sha256sum "$f" | cut -d' ' -f1)"
    [ "$hex" = "$(basename "$f")" ] || lib_die "pulled blob $f has sha256 $hex"
  done
  lib_log "ok: $n blobs of $digest byte-identical in $(basename "$pulled")"
}

# reset_skopeo_cache: forgets where skopeo has seen blobs (its blob-info cache: as root in
# /var/lib/containers/cache, else under XDG_DATA_HOME), so that uploads are real uploads.
reset_skopeo_cache() {
  if [ "$(id -u)" -eq 0 ]; then
    rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
  else
    rm -f "${XDG_DATA_HOME:-$HOME/.local/share}/containers/cache/blob-info-cache-v1.boltdb"
  fi
}

# wait_grep FILE PATTERN SECONDS: waits until FILE has a line matching PATTERN (grep -E);
# false if SECONDS pass first.
wait_grep() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_exit PID SECONDS: waits until PID (a child of this shell, e.g. a client run with &)
# has exited; false if it still runs after SECONDS. Then `wait PID` gives its status.
wait_exit() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ] || return 0
    sleep 0.1
  done
  return 1
}
