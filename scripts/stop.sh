#!/usr/bin/env bash
# Stop the controller `make run` started (var/run/controller.pid): SIGTERM, the graceful stop
# (requests in flight finish, taken jobs go back to pending), then wait for it to exit.
# SIGKILL only if it is still there well past CLOUDMGR_SHUTDOWN_GRACE_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
PIDFILE=var/run/controller.pid
if [ -s var/env ]; then set -a; . var/env; set +a; fi

if [ ! -s "$PIDFILE" ]; then
  echo "controller: not running (no $PIDFILE)"
  exit 0
fi
pid=$(cat "$PIDFILE")
# The pid may have been reused since: only signal a process that is our controller.
if ! kill -0 "$pid" 2>/dev/null || ! tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q runcontroller; then
  echo "controller: not running (stale $PIDFILE)"
  rm -f "$PIDFILE"
  exit 0
fi

grace=${CLOUDMGR_SHUTDOWN_GRACE_SECONDS:-20}
limit_tenths=$(( (${grace%.*} + 10) * 10 ))
echo "controller: stopping (pid $pid, grace ${grace} s)"
kill -TERM "$pid"
for _ in $(seq "$limit_tenths"); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "controller: still running past the grace; killing it" >&2
  kill -KILL "$pid"
fi
rm -f "$PIDFILE"
echo "controller: stopped"
