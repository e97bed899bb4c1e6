#!/usr/bin/env bash
# The shared BlobDriver suite (storage_swift_suite_test) with the swift driver against a real
# OpenStack Swift (tempauth) that this script starts with ci/start-swift on free 127.0.0.1
# ports and stops however it ends. Fails, never skips, when Swift cannot be started.
#   swift_driver_suite_test.sh TEST_BIN [gtest flags...]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
ci="$(cd "$here/../../../ci" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$ci/lib.sh"

[ "$#" -ge 1 ] || lib_die "usage: $0 TEST_BIN [gtest flags]"
bin="$1"
shift
[ -x "$bin" ] || lib_die "test binary not found: $bin"
lib_init
lib_require_tools curl swift-proxy-server swift-ring-builder memcached setfattr

# A port p with p..p+4 free (proxy, object, container, account, memcached).
port="$(lib_free_port_run 5)"

dir="$LIB_TMP/swift"
lib_on_exit "'$ci/stop-swift' '$dir' >&2"
t0=$SECONDS
if ! SWIFT_IMAGE_SIZE="${SWIFT_IMAGE_SIZE:-1G}" "$ci/start-swift" "$dir" "$port" >&2; then
  lib_die "ci/start-swift could not start OpenStack Swift on 127.0.0.1:$port (see above)"
fi
lib_log "Swift ready in $((SECONDS - t0)) s"
for n in proxy account container object memcached; do
  lib_watchdog "$(cat "$dir/$n.pid")" "$([ "$n" = memcached ] && echo memcached || echo "$dir/$n-server.conf")"
done
# shellcheck disable=SC1091
source "$dir/env"
export DTR_TEST_SWIFT_AUTHURL="$SWIFT_URL" DTR_TEST_SWIFT_USER="$SWIFT_USER"
export DTR_TEST_SWIFT_KEY="$SWIFT_KEY"

t0=$SECONDS
"$bin" "$@"
lib_log "suite on Swift passed in $((SECONDS - t0)) s"
