#!/usr/bin/env bash
# The shared BlobDriver suite (storage_azure_suite_test) with the azure driver against
# Azurite, the Azure Storage emulator, that this script starts with ci/start-azurite on a
# free 127.0.0.1 port and stops however it ends. Fails, never skips, when Azurite cannot be
# started.
#   azure_driver_suite_test.sh TEST_BIN [gtest flags...]
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
lib_require_tools curl node

dir="$LIB_TMP/azurite"
lib_on_exit "'$ci/stop-azurite' '$dir' >&2"
started=""
for _ in 1 2 3; do
  port="$(lib_free_port)"
  if "$ci/start-azurite" "$dir" "$port" >&2; then
    started=1
    break
  fi
  grep -qi 'EADDRINUSE' "$dir/azurite.log" 2>/dev/null || break
  lib_log "port $port taken meanwhile; retrying"
done
[ -n "$started" ] || lib_die "ci/start-azurite could not start Azurite on 127.0.0.1 (see above)"
lib_watchdog "$(cat "$dir/azurite.pid")" azurite
# shellcheck disable=SC1091
source "$dir/env"
export DTR_TEST_AZURE_ENDPOINT="$AZURE_ENDPOINT" DTR_TEST_AZURE_ACCOUNT="$AZURE_ACCOUNT_NAME"
export DTR_TEST_AZURE_KEY="$AZURE_ACCOUNT_KEY"

t0=$SECONDS
"$bin" "$@"
lib_log "suite on Azurite passed in $((SECONDS - t0)) s"
