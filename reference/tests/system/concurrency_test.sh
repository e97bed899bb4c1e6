#!/usr/bin/env bash
# Several clients at once: the same blob into one repository and into many, the same tag
# with different manifests, many pushes into one repository. Every acknowledged push must
# read back, tags must be consistent between the tag link and the listing.
set -euo pipefail
DTR="$1"
source "$(dirname "$0")/../../../ci/lib.sh"
source "$(dirname "$0")/common.sh"
lib_init
lib_require_tools curl sha256sum jq

lib_start_dtr "$DTR" "$LIB_TMP/dtr" --no-access-log --auth none
url="http://127.0.0.1:$LIB_PORT"
head -c 3000000 /dev/urandom >"$LIB_TMP/same"
same="sha256:$(sha256sum "$LIB_TMP/same" | cut -d' ' -f1)"

# 1. The same blob from 8 clients into one repository and into 8 repositories.
pids=()
for i in 1 2 3 4 5 6 7 8; do
  (push_blob "$url" same/one "$LIB_TMP/same" >"$LIB_TMP/r1-$i") &
  pids+=($!)
  (push_blob "$url" "same/r$i" "$LIB_TMP/same" >"$LIB_TMP/r2-$i") &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || lib_die "a concurrent push of the same blob failed"; done
for i in 1 2 3 4 5 6 7 8; do
  for r in same/one "same/r$i"; do
    got="$(curl -sS "$url/v2/$r/blobs/$same" | sha256sum | cut -d' ' -f1)"
    [ "sha256:$got" = "$same" ] || lib_die "$r: blob differs after concurrent pushes"
  done
done

# 2. The same tag, 8 different manifests at once: the tag ends on one of them, and the tag
# link, GET by tag and the listing agree.
printf '{}' >"$LIB_TMP/cfg"
cfg="$(push_blob "$url" same/tag "$LIB_TMP/cfg")"
lay="$(push_blob "$url" same/tag "$LIB_TMP/same")"
pids=()
for i in $(seq 1 8); do
  manifest_for "$cfg" 2 "$lay" 3000000 | jq -c --arg i "$i" '. + {annotations: {n: $i}}' >"$LIB_TMP/m$i"
  (for k in 1 2 3 4 5; do put_manifest "$url" same/tag latest "$LIB_TMP/m$i" || exit 1; done) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || lib_die "a concurrent manifest PUT failed"; done
got="$(curl -sS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$url/v2/same/tag/manifests/latest")"
n="$(jq -r .annotations.n <<<"$got")"
[ -n "$n" ] && [ -f "$LIB_TMP/m$n" ] || lib_die "the tag resolves to no manifest that was pushed"
tags="$(curl -sS "$url/v2/same/tag/tags/list" | jq -c .tags)"
[ "$tags" = '["latest"]' ] || lib_die "tags/list after concurrent tag pushes: $tags"
link="$LIB_TMP/dtr/data/storage/docker/registry/v2/repositories/same/tag/_manifests/tags/latest/current/link"
[ "$(cat "$link")" = "sha256:$(curl -sS "$url/v2/same/tag/manifests/latest" | sha256sum | cut -d' ' -f1)" ] ||
  lib_die "the tag link and GET by tag disagree"

# 3. Many pushes into one repository at once: every one is there afterwards.
pids=()
for w in 1 2 3 4 5 6; do
  (
    for i in 1 2 3 4 5 6 7 8; do
      f="$LIB_TMP/b$w-$i"
      head -c $((RANDOM * 8 + 1)) /dev/urandom >"$f"
      ld="$(push_blob "$url" busy/repo "$f")" || exit 1
      printf '{"w":%s,"i":%s}' "$w" "$i" >"$f.cfg"
      cd="$(push_blob "$url" busy/repo "$f.cfg")" || exit 1
      manifest_for "$cd" "$(stat -c %s "$f.cfg")" "$ld" "$(stat -c %s "$f")" >"$f.json"
      put_manifest "$url" busy/repo "w$w-$i" "$f.json" || exit 1
    done
  ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || lib_die "a concurrent push into one repository failed"; done
count="$(curl -sS "$url/v2/busy/repo/tags/list" | jq '.tags | length')"
[ "$count" = 48 ] || lib_die "busy/repo lists $count tags, want 48"
for w in 1 2 3 4 5 6; do
  for i in 1 2 3 4 5 6 7 8; do
    got="$(curl -sS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
      "$url/v2/busy/repo/manifests/w$w-$i" | sha256sum | cut -d' ' -f1)"
    [ "$got" = "$(sha256sum "$LIB_TMP/b$w-$i.json" | cut -d' ' -f1)" ] || lib_die "w$w-$i differs"
  done
done
check_storage_integrity "$LIB_TMP/dtr/data/storage"
echo "concurrency test: passed"
