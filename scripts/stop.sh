#!/usr/bin/env bash
# Stop the local agent `make run` started (var/run/agent.pid: SIGTERM, Celery's warm shutdown, SIGKILL
# after 30 s), then the controller (var/run/controller.pid): SIGTERM, the graceful stop
# (requests in flight finish, taken jobs go back to pending), then wait for it to exit.
# SIGKILL only if it is still there well past CLOUDMGR_SHUTDOWN_GRACE_SECONDS.
# Guests the agent started keep running (libvirt owns them), as on any host whose agent restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
PIDFILE=var/run/controller.pid
if [ -s var/env ]; then set -a; . var/env; set +a; fi

AGENT_PIDFILE=var/run/agent.pid
if [ -s "$AGENT_PIDFILE" ]; then
  agent_pid=$(cat "$AGENT_PIDFILE")
  # As below: only signal a process that is still our agent.
  if kill -0 "$agent_pid" 2>/dev/null && tr '\0' ' ' < "/proc/$agent_pid/cmdline" | grep -q -- "-m agent run"; then
    echo "agent: stopping (pid $agent_pid)"
    kill -TERM "$agent_pid"
    # An exited agent may linger as a zombie until PID 1 reaps it: that counts as stopped.
    agent_alive() { [ "$(ps -o stat= -p "$agent_pid" 2>/dev/null | cut -c1)" != "" ] && [ "$(ps -o stat= -p "$agent_pid" | cut -c1)" != Z ]; }
    for _ in $(seq 300); do
      agent_alive || break
      sleep 0.1
    done
    if agent_alive; then
      echo "agent: still running after 30 s; killing it" >&2
      kill -KILL "$agent_pid"
    fi
    echo "agent: stopped"
  fi
  rm -f "$AGENT_PIDFILE"
fi

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
