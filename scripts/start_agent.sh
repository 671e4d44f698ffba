#!/usr/bin/env bash
# Enroll (once) and start the local host agent of `make run`: `start_agent.sh CONTROLLER_URL`.
#  - libvirt: qemu:///system when libvirtd can run here (scripts/start_libvirt.sh), else test:///default
#  - the host `local` in zone `local` is added once (`manage.py addhost` prints the one-time token);
#    the agent enrolls again only when its data directory does not hold that enrollment
#  - the demo's "physical" network: a veth pair with no uplink, demo-phys (the agent puts it on the
#    demo network's bridge: the physical network physnet1) and demo-gw (this host's own end, with
#    10.99.0.1/24, the network's gateway): no real interface is ever enslaved
#  - `python -m agent run` in the background, its network driver in this (the root) namespace, told
#    that physnet1 is demo-phys and nothing else: var/run/agent.pid, var/log/agent.log
# Prints `agent <host> <libvirt URI>` last. scripts/stop.sh stops the agent first.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=$1
PY=.venv/bin/python
HOST=${CLOUDMGR_LOCAL_AGENT_HOST:-local}
ZONE=${CLOUDMGR_LOCAL_AGENT_ZONE:-local}
# Under /var/lib: libvirt's unprivileged qemu user must traverse every parent of the instance files.
DATA_DIR=${CLOUDMGR_AGENT_DATA_DIR:-/var/lib/cloudmgr-agent}
PIDFILE=var/run/agent.pid
LOG=var/log/agent.log
mkdir -p var/run var/log

if bash scripts/start_libvirt.sh >/dev/null 2>>"$LOG"; then
  URI=qemu:///system
else
  URI=test:///default
  echo "libvirtd cannot run here (see $LOG): the local agent uses $URI, whose guests are simulated" >&2
fi

known=$("$PY" manage.py listhosts | awk -v host="$HOST" '$1 == host' || true)
enrolled_here=$("$PY" - "$DATA_DIR/agent.json" "$HOST" "$URL" <<'PY'
import json, sys
try:
    state = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    state = {}
print("yes" if (state.get("host"), state.get("controller_url")) == (sys.argv[2], sys.argv[3]) else "no")
PY
)
if [ -z "$known" ] || [ "$enrolled_here" != yes ]; then
  if [ -n "$known" ]; then
    added=$("$PY" manage.py addhost "$HOST" --new-token)
  else
    added=$("$PY" manage.py addhost "$HOST" --zone "$ZONE" --create-zone)
  fi
  token=$(sed -n 's/^enrollment token (shown once): //p' <<<"$added")
  "$PY" -m agent enroll --controller "$URL" --token "$token" --data-dir "$DATA_DIR" >>"$LOG" 2>&1
fi
chmod 711 "$DATA_DIR"

if ! ip link show demo-phys >/dev/null 2>&1; then
  ip link add demo-phys type veth peer name demo-gw
  ip link set dev demo-phys addrgenmode none
  ip addr add 10.99.0.1/24 dev demo-gw
fi
ip link set demo-phys up
ip link set demo-gw up

CLOUDMGR_AGENT_BROKER_URL=${CLOUDMGR_AGENT_BROKER_URL:-${CLOUDMGR_BROKER_URL:-redis://127.0.0.1:6379/0}} \
CLOUDMGR_AGENT_NETWORK_DRIVER=linux CLOUDMGR_AGENT_PHYSICAL_INTERFACES=physnet1:demo-phys \
CLOUDMGR_AGENT_NETWORK_NODE=true \
  setsid "$PY" -m agent run --libvirt-uri "$URI" --data-dir "$DATA_DIR" >>"$LOG" 2>&1 </dev/null &
echo $! > "$PIDFILE"

# Up once its first heartbeat reached the controller.
is_up() { "$PY" manage.py listhosts | awk -v host="$HOST" '$1 == host && $3 == "up" {found=1} END {exit !found}'; }
for _ in $(seq 120); do
  is_up && { echo "agent $HOST $URI"; exit 0; }
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "the agent exited; the end of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    rm -f "$PIDFILE"
    exit 1
  fi
  sleep 0.5
done
echo "the agent did not heartbeat in time; see $LOG" >&2
exit 1
