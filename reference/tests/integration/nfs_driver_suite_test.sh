#!/usr/bin/env bash
# The shared BlobDriver suite (storage_nfs_suite_test) with the nfs driver (NFSv3 through
# libnfs) against a real nfs-ganesha that this script starts with ci/start-nfs in a private
# network namespace, and stops however it ends. The test binary runs in that namespace (it
# holds the server's rpcbind). Fails, never skips, when the server cannot be started.
#   nfs_driver_suite_test.sh TEST_BIN [gtest flags...]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
ci="$(cd "$here/../../../ci" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$ci/lib.sh"

[ "$#" -ge 1 ] || lib_die "usage: $0 TEST_BIN [gtest flags]"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
[ -x "$bin" ] || lib_die "test binary not found: $bin"
[ "$(id -u)" -eq 0 ] || lib_die "needs root: ci/start-nfs runs nfs-ganesha in a network namespace (ip netns)"
lib_init
lib_require_tools ganesha.nfsd rpcbind rpcinfo nfs-ls ip unshare nsenter

dir="$LIB_TMP/nfs"
lib_on_exit "'$ci/stop-nfs' '$dir' >&2"
t0=$SECONDS
if ! "$ci/start-nfs" "$dir" >&2; then
  lib_die "ci/start-nfs could not start nfs-ganesha (see above)"
fi
lib_log "nfs-ganesha ready in $((SECONDS - t0)) s"
lib_watchdog "$(cat "$dir/ganesha.pid")" "$dir/ganesha.conf"
lib_watchdog "$(cat "$dir/rpcbind.pid")" rpcbind
# shellcheck disable=SC1091
source "$dir/env"
export DTR_TEST_NFS_URL="$NFS_URL" DTR_TEST_NFS_EXPORT_DIR="$NFS_EXPORT_DIR"

t0=$SECONDS
ip netns exec "$NFS_NETNS" "$bin" "$@"
lib_log "suite on nfs-ganesha passed in $((SECONDS - t0)) s"
