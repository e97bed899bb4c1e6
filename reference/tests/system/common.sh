# Helpers shared by the system tests: push blobs and manifests with curl and check what
# storage holds. Sourced after ci/lib.sh.

# push_blob URL REPO FILE: POST, one PATCH with the whole file, PUT ?digest=. Prints the
# digest on success (201), nothing and returns 1 otherwise.
push_blob() {
  local url="$1" repo="$2" file="$3" digest loc code
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  loc="$(curl -sS --max-time 30 -o /dev/null -w '%header{location}' -X POST \
    "$url/v2/$repo/blobs/uploads/" 2>/dev/null)" || return 1
  [ -n "$loc" ] || return 1
  loc="$(curl -sS --max-time 60 -o /dev/null -w '%header{location}' -X PATCH \
    -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$loc" 2>/dev/null)" || return 1
  [ -n "$loc" ] || return 1
  case "$loc" in *\?*) loc="$loc&digest=$digest" ;; *) loc="$loc?digest=$digest" ;; esac
  code="$(curl -sS --max-time 60 -o /dev/null -w '%{http_code}' -X PUT "$loc" 2>/dev/null)" || return 1
  [ "$code" = 201 ] || return 1
  echo "$digest"
}

# manifest_for CONFIG_DIGEST CONFIG_SIZE LAYER_DIGEST LAYER_SIZE: an OCI image manifest.
manifest_for() {
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$1" "$2" "$3" "$4"
}

# put_manifest URL REPO REF FILE: 0 on 201.
put_manifest() {
  local code
  code="$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$4" \
    "$1/v2/$2/manifests/$3" 2>/dev/null)" || return 1
  [ "$code" = 201 ]
}

# check_storage_integrity ROOT: every blob's bytes hash to its name, every link names
# content that exists, no temp file sits at a visible path. Fails naming the first fault.
check_storage_integrity() {
  local root="$1/docker/registry/v2" f d want got n=0
  [ -d "$root" ] || return 0
  while IFS= read -r f; do
    d="$(basename "$(dirname "$f")")"
    got="$(sha256sum "$f" | cut -d' ' -f1)"
    [ "$got" = "$d" ] || lib_die "blob $f holds content hashing to $got: a torn or corrupt blob is visible"
    n=$((n + 1))
  done < <(find "$root/blobs/sha256" -name data -type f 2>/dev/null)
  while IFS= read -r f; do
    want="$(cat "$f")"
    case "$want" in sha256:*) ;; *) lib_die "link $f is corrupt: '$want'" ;; esac
    [ -f "$root/blobs/sha256/${want:7:2}/${want:7}/data" ] ||
      lib_die "link $f names $want whose data is missing"
  done < <(find "$root/repositories" -name link -type f 2>/dev/null)
  if find "$root" -name '*.tmp-*' | grep -q .; then
    lib_log "leftover temp files (invisible to readers, left for GC): $(find "$root" -name '*.tmp-*' | wc -l)"
  fi
  lib_log "storage integrity: $n blobs verified"
}
