#!/usr/bin/env bash
# Stop the zebrasrv that start.sh started from <workdir>: SIGTERM, then SIGKILL after 10 s.
# Leaves the work folder (registers, logs) in place; exits 0 if nothing was running.
#   stop.sh <workdir>
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 <workdir>" >&2; exit 2; }
pidfile="$1/zebrasrv.pid"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
# Only a zebrasrv of that pid: a pid left in a stale file may belong to another process now.
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q zebrasrv "/proc/$pid/cmdline" 2>/dev/null; then
  kill -TERM "$pid" 2>/dev/null || true
  # a target a test froze with SIGSTOP (to have one that does not answer) must run to die
  kill -CONT "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "zebra/stop.sh: zebrasrv $pid ignored SIGTERM for 10 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
fi
rm -f "$pidfile"
