# shellcheck shell=bash
# Shared bash helpers for scripts and tests that start servers on 127.0.0.1: free ports,
# bounded readiness waits, pid files, and cleanup that runs however the script ends.
#
#   source "$(dirname "$0")/../ci/lib.sh"   (from a script; needs bash 4+, curl)
#   lib_init                  # $LIB_TMP: a private temp dir, removed at exit
#   lib_require_tools skopeo jq
#   lib_start_dtr "$dtr_bin" "$LIB_TMP/dtr1" [--config FILE] ...   # sets LIB_PORT, LIB_PID
#   lib_stop_dtr "$LIB_TMP/dtr1"
#   lib_start_distribution "$LIB_TMP/dist1"                        # sets LIB_PORT
#   lib_stop_distribution "$LIB_TMP/dist1"
#
# Every server started here is stopped at exit (normal exit, error under set -e, INT, TERM,
# HUP), by its own pid only. A watchdog also stops it if the script is killed with -9.
# Loops are bounded: nothing here waits forever.
# shellcheck disable=SC2034  # LIB_PORT, LIB_PID are set for the caller
# shellcheck disable=SC2016  # bash -c '...' scripts expand their own arguments

LIB_CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB_TMP=""
LIB_PORT=""
LIB_PID=""
LIB_KEEP_TMP="${LIB_KEEP_TMP:-0}" # 1: keep the temp dir (logs, data) for a post-mortem
declare -a LIB_CLEANUPS=()

lib_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

lib_die() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# lib_require_tools TOOL...: fails naming every tool that is not on PATH.
lib_require_tools() {
  local t missing=()
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    lib_die "required tool(s) not installed: ${missing[*]} (run ci/install-deps)"
  fi
}

# lib_on_exit COMMAND: runs COMMAND (a string for eval) at exit; last registered runs first.
lib_on_exit() { LIB_CLEANUPS+=("$1"); }

lib_run_cleanups() {
  local rc=$? i
  trap - EXIT INT TERM HUP
  set +e
  for ((i = ${#LIB_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${LIB_CLEANUPS[$i]}"
  done
  if [ -n "$LIB_TMP" ] && [ -d "$LIB_TMP" ]; then
    # The servers have stopped, so any leak report is written: one fails the script.
    lib_sanitizer_reports "$LIB_TMP" || { [ "$rc" -ne 0 ] || rc=1; }
    if [ "$rc" -ne 0 ] || [ "$LIB_KEEP_TMP" = 1 ]; then
      lib_dump_logs
    fi
    if [ "$LIB_KEEP_TMP" = 1 ]; then
      echo "kept $LIB_TMP" >&2
    else
      rm -rf "$LIB_TMP"
    fi
  fi
  exit "$rc"
}

# On failure, the tail of every server log goes to stderr (ctest --output-on-failure).
lib_dump_logs() {
  local f
  for f in "$LIB_TMP"/*/*.log; do
    [ -f "$f" ] || continue
    echo "----- last 40 lines of $f -----" >&2
    tail -n 40 "$f" >&2
  done
}

# lib_sanitizer_reports DIR: under the asan preset a server that hits a memory error, a leak
# or undefined behaviour writes the report to its log (which only this script reads) and
# may exit without anyone checking its status. Prints every report found in the files under
# DIR (up to 20 MiB each) to stderr and returns 1 if there is one.
lib_sanitizer_reports() {
  local f status=0
  while IFS= read -r -d '' f; do
    grep -qaE '^==[0-9]+==ERROR: |^SUMMARY: [A-Za-z]+Sanitizer|: runtime error: ' "$f" || continue
    echo "----- sanitizer report in $f -----" >&2
    grep -aE -m 200 -A 60 '^==[0-9]+==(ERROR|WARNING): |: runtime error: ' "$f" | head -n 300 >&2
    status=1
  done < <(find "$1" -type f -size -20M -print0 2>/dev/null)
  return "$status"
}

# lib_init: a private temp dir in $LIB_TMP and the exit trap.
lib_init() {
  LIB_TMP="$(mktemp -d "${TMPDIR:-/tmp}/dtr-it.XXXXXX")"
  # If this script is killed without running its traps, the server watchdogs stop the
  # servers; this one then removes the temp dir (unless LIB_KEEP_TMP=1).
  if [ "$LIB_KEEP_TMP" != 1 ]; then
    (
      setsid bash -c '
        me=$1; tmp=$2
        while kill -0 "$me" 2>/dev/null; do sleep 1; done
        sleep 10
        case "$tmp" in */dtr-it.*) rm -rf "$tmp" ;; esac' _ "$$" "$LIB_TMP" \
        </dev/null >/dev/null 2>&1 &
    )
  fi
  trap lib_run_cleanups EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# lib_port_in_use PORT: true when something listens on 127.0.0.1:PORT.
lib_port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# lib_free_port: prints a port on 127.0.0.1 that nothing listens on (a random one in
# 20000-59999, so parallel tests rarely pick the same; callers retry if bind still fails).
lib_free_port() {
  local i p
  for ((i = 0; i < 200; i++)); do
    # Below Linux's ephemeral range (32768-60999): a port there can be taken at any moment
    # by the local end of an outgoing connection, which made servers fail to bind.
    p=$((10240 + (RANDOM * 32768 + RANDOM) % 22000))
    if ! lib_port_in_use "$p"; then
      echo "$p"
      return 0
    fi
  done
  lib_die "no free port found on 127.0.0.1 after 200 tries"
}

# lib_free_port_run N: a port p with p..p+N-1 all free on 127.0.0.1 (servers such as Swift
# take several consecutive ports).
lib_free_port_run() {
  local n="$1" p i ok
  for _ in $(seq 1 50); do
    p="$(lib_free_port)"
    ok=1
    for ((i = 1; i < n; i++)); do
      if lib_port_in_use $((p + i)); then ok=0; fi
    done
    if [ "$ok" = 1 ]; then
      echo "$p"
      return 0
    fi
  done
  lib_die "no run of $n free ports on 127.0.0.1"
}

# lib_wait_http URL SECONDS [PID]: waits until URL answers (any HTTP status); fails if
# PID exits first or SECONDS pass.
lib_wait_http() {
  local url="$1" secs="$2" pid="${3:-}" i
  for ((i = 0; i < secs * 10; i++)); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      return 2
    fi
    if curl -sS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# lib_pid_is PID WORD: true if PID is alive and its command line contains WORD (so a
# recycled pid is never signalled).
lib_pid_is() {
  kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# lib_stop_pid PID WORD [SECONDS]: SIGTERM, wait up to SECONDS (default 20), then SIGKILL.
# Returns 0 if it exited on SIGTERM, 1 if it had to be killed.
lib_stop_pid() {
  local pid="$1" word="$2" secs="${3:-20}" i
  lib_pid_is "$pid" "$word" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    # A child of this shell stays a zombie until reaped: reap it if it is ours.
    if [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]; then
      wait "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]; then
    kill -KILL "$pid" 2>/dev/null || true
    return 1
  fi
  wait "$pid" 2>/dev/null || true
  return 0
}

# lib_watchdog PID WORD: a detached watcher that stops PID if this script dies without
# running its traps (kill -9, ctest timeout). It ends when either of them ends.
lib_watchdog() {
  local target="$1" word="$2" me="$$"
  (
    setsid bash -c '
      me=$1; target=$2; word=$3
      alive() { kill -0 "$1" 2>/dev/null && tr "\0" " " <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }
      # Only the death of the script triggers it (the target may not have exec-ed yet when
      # this starts, so its command line is checked only then).
      while kill -0 "$me" 2>/dev/null; do
        kill -0 "$target" 2>/dev/null || exit 0
        sleep 1
      done
      if alive "$target" "$word"; then
        kill -TERM "$target" 2>/dev/null; sleep 5
        alive "$target" "$word" && kill -KILL "$target" 2>/dev/null
      fi
      exit 0' _ "$me" "$target" "$word" </dev/null >/dev/null 2>&1 &
  )
}

# lib_start_dtr BIN DIR [ARGS...]: runs `BIN serve --listen 127.0.0.1:<free port> --data
# DIR/data ARGS...` with its stderr in DIR/dtr.log and its pid in DIR/dtr.pid; returns
# once /v2/ answers. Sets LIB_PORT and LIB_PID. Retries on another port if bind fails.
# Fails the script if it does not start; lib_try_start_dtr returns 1 instead.
# LIB_DTR_CMD runs another command than serve (registry, api, notary, front: one component
# alone), LIB_DTR_DATA another data directory (components share one) and LIB_DTR_PORT a
# given port (a component restarted where the front expects it).
lib_start_dtr() {
  lib_try_start_dtr "$@" || lib_die "dtr serve did not start (its log is above)"
}

lib_try_start_dtr() {
  local bin="$1" dir="$2" port pid rc cmd="${LIB_DTR_CMD:-serve}" data
  shift 2
  [ -x "$bin" ] || lib_die "dtr binary not found or not executable: $bin"
  mkdir -p "$dir"
  data="${LIB_DTR_DATA:-$dir/data}"
  for _ in 1 2 3; do
    port="${LIB_DTR_PORT:-$(lib_free_port)}"
    "$bin" "$cmd" --listen "127.0.0.1:$port" --data "$data" "$@" \
      </dev/null >>"$dir/dtr.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/dtr.pid"
    lib_on_exit "lib_stop_pid $pid '$data'"
    lib_watchdog "$pid" "$data"
    rc=0
    lib_wait_http "http://127.0.0.1:$port/v2/" 30 "$pid" || rc=$?
    if [ "$rc" -eq 0 ]; then
      LIB_PORT="$port"
      LIB_PID="$pid"
      echo "$port" >"$dir/dtr.port"
      echo "$data" >"$dir/dtr.data"
      lib_log "dtr $cmd (pid $pid) ready on 127.0.0.1:$port, data $data"
      return 0
    fi
    lib_stop_pid "$pid" "$data" 5 || true
    rm -f "$dir/dtr.pid"
    if [ "$rc" -eq 2 ] && grep -qi 'in use' "$dir/dtr.log"; then
      lib_log "port $port taken meanwhile; retrying"
      continue
    fi
    echo "dtr serve did not become ready on 127.0.0.1:$port; the end of $dir/dtr.log:" >&2
    tail -n 40 "$dir/dtr.log" >&2
    return 1
  done
  echo "dtr serve could not bind a free port after 3 attempts" >&2
  return 1
}

# lib_stop_dtr DIR: SIGTERM (a clean shutdown) to the dtr started in DIR; fails if it
# does not exit by itself within 20 s.
lib_stop_dtr() {
  local dir="$1" pid data
  [ -f "$dir/dtr.pid" ] || return 0
  pid="$(cat "$dir/dtr.pid")"
  data="$(cat "$dir/dtr.data" 2>/dev/null || echo "$dir/data")"
  rm -f "$dir/dtr.pid"
  lib_stop_pid "$pid" "$data" 20 || lib_die "dtr (pid $pid) ignored SIGTERM for 20 s"
  lib_pid_is "$pid" "$data" && lib_die "dtr (pid $pid) still runs after lib_stop_dtr"
  lib_log "dtr (pid $pid) stopped"
}

# lib_start_distribution DIR: CNCF distribution (Debian's docker-registry) on a free port
# with its root directory DIR/storage (deletes enabled, no auth). Uses ci/start-distribution
# when it exists, else starts it here the same way. Sets LIB_PORT.
lib_start_distribution() {
  local dir="$1" port pid
  lib_require_tools docker-registry
  mkdir -p "$dir/storage"
  dir="$(cd "$dir" && pwd)"
  for _ in 1 2 3; do
    port="$(lib_free_port)"
    lib_on_exit "lib_stop_distribution '$dir' >/dev/null 2>&1"
    if [ -x "$LIB_CI_DIR/start-distribution" ]; then
      if "$LIB_CI_DIR/start-distribution" "$port" "$dir" >&2; then
        pid="$(cat "$dir/registry.pid")"
        lib_watchdog "$pid" docker-registry
        LIB_PORT="$port"
        return 0
      fi
    else
      cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
YAML
      docker-registry serve "$dir/config.yml" </dev/null >"$dir/registry.log" 2>&1 &
      pid=$!
      echo "$pid" >"$dir/registry.pid"
      lib_watchdog "$pid" docker-registry
      if lib_wait_http "http://127.0.0.1:$port/v2/" 15 "$pid"; then
        lib_log "docker-registry (pid $pid) ready on 127.0.0.1:$port"
        LIB_PORT="$port"
        return 0
      fi
      lib_stop_distribution "$dir" >/dev/null 2>&1
    fi
    if grep -qi 'in use' "$dir/registry.log" 2>/dev/null; then
      lib_log "port $port taken meanwhile; retrying"
      continue
    fi
    tail -n 40 "$dir/registry.log" >&2 2>/dev/null || true
    lib_die "docker-registry did not start on 127.0.0.1:$port"
  done
  lib_die "docker-registry could not bind a free port after 3 attempts"
}

# lib_stop_distribution DIR: stops the docker-registry started in DIR, by its pid file.
lib_stop_distribution() {
  local dir="$1" pid
  if [ -x "$LIB_CI_DIR/stop-distribution" ]; then
    "$LIB_CI_DIR/stop-distribution" "$dir" >&2
    return
  fi
  [ -f "$dir/registry.pid" ] || return 0
  pid="$(cat "$dir/registry.pid")"
  rm -f "$dir/registry.pid"
  lib_stop_pid "$pid" docker-registry 10 || true
  lib_log "docker-registry (pid $pid) stopped"
}
