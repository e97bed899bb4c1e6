#!/usr/bin/env bash
# Kills `dtr serve` with SIGKILL while several clients push blobs and manifests, restarts
# it, and checks that every push it acknowledged is intact, that no half-written blob or
# manifest is visible, and that an interrupted chunked upload resumes where it stopped.
set -euo pipefail
DTR="$1"
source "$(dirname "$0")/../../../ci/lib.sh"
source "$(dirname "$0")/common.sh"
lib_init
lib_require_tools curl sha256sum

dir="$LIB_TMP/dtr"
acks="$LIB_TMP/acks"
: >"$acks"

writer() {  # writer ID URL: pushes until the server goes away (bounded to 400 pushes)
  local id="$1" url="$2" i f cfg ld cd size csize
  for ((i = 0; i < 400; i++)); do
    f="$LIB_TMP/w$id-$i"
    size=$(((RANDOM % 2048 + 1) * 1024))
    head -c "$size" /dev/urandom >"$f"
    ld="$(push_blob "$url" "crash/w$id" "$f")" || return 0
    echo "blob crash/w$id $ld $f" >>"$acks"
    printf '{"id":"%s-%s"}' "$id" "$i" >"$f.cfg"
    csize=$(stat -c %s "$f.cfg")
    cd="$(push_blob "$url" "crash/w$id" "$f.cfg")" || return 0
    manifest_for "$cd" "$csize" "$ld" "$size" >"$f.json"
    put_manifest "$url" "crash/w$id" "t$i" "$f.json" || return 0
    echo "tag crash/w$id t$i sha256:$(sha256sum "$f.json" | cut -d' ' -f1) $f.json" >>"$acks"
  done
}

for round in 1 2 3; do
  lib_start_dtr "$DTR" "$dir" --no-access-log --auth none
  url="http://127.0.0.1:$LIB_PORT"
  pid="$LIB_PID"
  # An interrupted chunked upload: the first chunk is acknowledged before the kill.
  head -c 300000 /dev/urandom >"$LIB_TMP/resume-$round"
  head -c 200000 "$LIB_TMP/resume-$round" >"$LIB_TMP/resume-$round.a"
  tail -c 100000 "$LIB_TMP/resume-$round" >"$LIB_TMP/resume-$round.b"
  loc="$(curl -sS -o /dev/null -w '%header{location}' -X POST "$url/v2/crash/resume/blobs/uploads/")"
  code="$(curl -sS -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Range: 0-199999' \
    --data-binary "@$LIB_TMP/resume-$round.a" "$loc")"
  [ "$code" = 202 ] || lib_die "first chunk not accepted: $code"

  pids=()
  for w in 1 2 3 4 5 6; do
    writer "$round$w" "$url" &
    pids+=($!)
  done
  sleep $((2 + round))
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "$dir/dtr.pid"
  for p in "${pids[@]}"; do wait "$p" || true; done
  lib_log "round $round: killed the server with $(wc -l <"$acks") acknowledged pushes so far"

  check_storage_integrity "$dir/data/storage"
  lib_start_dtr "$DTR" "$dir" --no-access-log --auth none
  url="http://127.0.0.1:$LIB_PORT"
  grep -q "did not shut down cleanly" "$dir/dtr.log" || lib_die "restart did not rebuild the index"

  # Every acknowledged push is intact.
  while read -r kind repo ref digest file; do
    if [ "$kind" = blob ]; then
      got="$(curl -sS "$url/v2/$repo/blobs/$ref" | sha256sum | cut -d' ' -f1)"
      [ "sha256:$got" = "$ref" ] || lib_die "acknowledged blob $ref in $repo lost or corrupt after kill -9"
    else
      got="$(curl -sS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        "$url/v2/$repo/manifests/$ref" | sha256sum | cut -d' ' -f1)"
      [ "sha256:$got" = "$digest" ] || lib_die "acknowledged tag $repo:$ref lost after kill -9"
      curl -sS "$url/v2/$repo/tags/list" | grep -q "\"$ref\"" ||
        lib_die "tag $repo:$ref missing from tags/list after the index rebuild"
    fi
  done <"$acks"

  # The interrupted upload resumes from the acknowledged offset (on the new port).
  loc="$url/${loc#http://*/}"
  range="$(curl -sS -o /dev/null -w '%header{range}' "$loc")"
  [ "$range" = "0-199999" ] || lib_die "interrupted upload reports Range '$range', want 0-199999"
  code="$(curl -sS -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Range: 200000-299999' \
    --data-binary "@$LIB_TMP/resume-$round.b" "$loc")"
  [ "$code" = 202 ] || lib_die "resumed chunk refused: $code"
  d="sha256:$(sha256sum "$LIB_TMP/resume-$round" | cut -d' ' -f1)"
  code="$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$loc?digest=$d")"
  [ "$code" = 201 ] || lib_die "completing the resumed upload answered $code"
  got="$(curl -sS "$url/v2/crash/resume/blobs/$d" | sha256sum | cut -d' ' -f1)"
  [ "sha256:$got" = "$d" ] || lib_die "resumed upload content differs"
  lib_stop_dtr "$dir"
done
n="$(wc -l <"$acks")"
[ "$n" -ge 30 ] || lib_die "only $n pushes were acknowledged; the test did not load the server"
echo "crash test: $n acknowledged pushes survived 3 kill -9 rounds"
