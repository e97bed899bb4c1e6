#!/usr/bin/env bash
# The shared BlobDriver suite (storage_s3_suite_test) against a real S3 server that this
# script starts on free 127.0.0.1 ports and stops however it ends:
#   s3_driver_suite_test.sh swift|s3rver|s3rver-tls|cleversafe-swift TEST_BIN [gtest flags...]
# swift: the s3 driver on OpenStack Swift's s3api (ci/start-swift), the proof of S3 support.
# s3rver: the s3 driver on s3rver (ci/start-s3rver), a second implementation.
# s3rver-tls: the same over HTTPS (self-signed certificate; skipverify), a subset.
# cleversafe-swift: the cleversafe driver (IBM COS defaults: region us-standard, path-style)
# on a Swift whose s3api answers for region us-standard.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
ci="$(cd "$here/../../../ci" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$ci/lib.sh"

[ "$#" -ge 2 ] || lib_die "usage: $0 swift|s3rver|s3rver-tls|cleversafe-swift TEST_BIN [gtest flags]"
backend="$1"
bin="$2"
shift 2
[ -x "$bin" ] || lib_die "test binary not found: $bin"
lib_init
lib_require_tools curl

start_swift() { # LOCATION
  local dir="$LIB_TMP/swift" port n
  lib_require_tools swift-proxy-server swift-ring-builder memcached setfattr
  port="$(lib_free_port_run 5)"
  lib_on_exit "'$ci/stop-swift' '$dir' >&2"
  local t0=$SECONDS
  if ! SWIFT_BUCKETS="dtr-suite" SWIFT_S3_LOCATION="$1" "$ci/start-swift" "$dir" "$port" >&2; then
    lib_die "ci/start-swift could not start OpenStack Swift on 127.0.0.1:$port (see above)"
  fi
  lib_log "Swift ready in $((SECONDS - t0)) s"
  for n in proxy account container object memcached; do
    lib_watchdog "$(cat "$dir/$n.pid")" "$([ "$n" = memcached ] && echo memcached || echo "$dir/$n-server.conf")"
  done
  # shellcheck disable=SC1091
  source "$dir/env"
  export DTR_TEST_S3_ENDPOINT="$S3_ENDPOINT" DTR_TEST_S3_ACCESS_KEY="$S3_ACCESS_KEY"
  export DTR_TEST_S3_SECRET_KEY="$S3_SECRET_KEY" DTR_TEST_S3_REGION="$S3_REGION"
  export DTR_TEST_S3_BUCKET=dtr-suite DTR_TEST_S3_SERVER=swift
}

case "$backend" in
  swift)
    start_swift us-east-1
    export DTR_TEST_S3_DRIVER=s3
    ;;
  cleversafe-swift)
    start_swift us-standard
    export DTR_TEST_S3_DRIVER=cleversafe
    unset DTR_TEST_S3_REGION # the driver's own default, us-standard, must be what works
    ;;
  s3rver | s3rver-tls)
    lib_require_tools node
    dir="$LIB_TMP/s3rver"
    port="$(lib_free_port)"
    tls=()
    [ "$backend" = s3rver-tls ] && tls=(--tls)
    lib_on_exit "'$ci/stop-s3rver' '$dir' >&2"
    S3RVER_BUCKETS="dtr-suite" "$ci/start-s3rver" "$dir" "$port" "${tls[@]}" >&2 ||
      lib_die "ci/start-s3rver could not start s3rver on 127.0.0.1:$port (see above)"
    lib_watchdog "$(cat "$dir/s3rver.pid")" s3rver
    # shellcheck disable=SC1091
    source "$dir/env"
    export DTR_TEST_S3_ENDPOINT="$S3_ENDPOINT" DTR_TEST_S3_ACCESS_KEY="$S3_ACCESS_KEY"
    export DTR_TEST_S3_SECRET_KEY="$S3_SECRET_KEY" DTR_TEST_S3_REGION="$S3_REGION"
    export DTR_TEST_S3_BUCKET=dtr-suite DTR_TEST_S3_SERVER=s3rver DTR_TEST_S3_DRIVER=s3
    # s3rver's delimiter listings drop folders that hold only folders, and it writes objects
    # in place (no temp file), so concurrent PUTs of one key can interleave.
    export DTR_TEST_S3_PARAMS="delimiterlisting=false" DTR_TEST_S3_NONATOMIC=1
    if [ "$backend" = s3rver-tls ]; then
      # HTTPS with a self-signed certificate: secure endpoint, skipverify. A subset of the
      # suite proves the transport; the plain s3rver run covers the rest.
      export DTR_TEST_S3_PARAMS="delimiterlisting=false;skipverify=true"
      set -- --gtest_filter='S3Only.*:*PutGet*:*RangedReads*:*WriterResumes*:*Concurrent*' "$@"
    fi
    ;;
  *) lib_die "unknown backend $backend (swift, s3rver, s3rver-tls or cleversafe-swift)" ;;
esac

t0=$SECONDS
"$bin" "$@"
lib_log "suite on $backend passed in $((SECONDS - t0)) s"
