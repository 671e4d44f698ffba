#!/usr/bin/env bash
# Start the controller for `make run`, after scripts/prepare.sh. Safe to run again: it stops the
# controller it started before, and every other step keeps what exists.
#  1. migrate, bootstrap ROOT and the cloud admin `admin` (password generated once: var/admin-password)
#  2. seed the demo tenant: domain, project and user `demo` (password: var/demo-password)
#     with the offering demo.tiny and the test guest (scripts/build_test_guest.py) as its images
#  3. start `manage.py runcontroller` in the background (var/run/controller.pid, var/log/controller.log)
#  4. wait until /healthz answers
#  5. enroll (once) and start the local agent (scripts/start_agent.sh: qemu:///system where libvirtd
#     can run, else test:///default; var/run/agent.pid, var/log/agent.log)
#  6. seed the demo network (flat DHCP on a veth with no uplink) and launch the demo instance on it;
#     wait for its address and ping it from this host; print the URL and the logins
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; . var/env; set +a
PY=.venv/bin/python
LISTEN=${CLOUDMGR_LISTEN:-127.0.0.1:8000}
PIDFILE=var/run/controller.pid
LOG=var/log/controller.log
mkdir -p var/run var/log

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# A password generated on the first run and kept, readable by root only.
kept_password() {
  if [ ! -s "$1" ]; then
    (umask 077; "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))' > "$1")
  fi
  chmod 600 "$1"
  cat "$1"
}
ADMIN_PASSWORD=$(kept_password var/admin-password)
DEMO_PASSWORD=$(kept_password var/demo-password)

bash scripts/stop.sh

log "migrating the database"
"$PY" manage.py migrate --noinput -v0
log "bootstrapping ROOT, the default roles and the cloud admin"
CLOUDMGR_ADMIN_PASSWORD=$ADMIN_PASSWORD "$PY" manage.py bootstrap --admin-username admin >/dev/null
if [ -z "${CLOUDMGR_TASK_SIGNING_KEY:-}" ] && [ ! -s "${CLOUDMGR_TASK_SIGNING_KEY_FILE:-var/task_signing_key.pem}" ]; then
  log "creating the task signing key"
  "$PY" manage.py createsigningkey >/dev/null
fi
GUEST_DIR=var/demo-guest
GUEST_ARGS=(--guest-dir "$GUEST_DIR")
if [ ! -s "$GUEST_DIR/guest.json" ]; then
  log "building the demo guest images from Debian packages"
  if ! "$PY" scripts/build_test_guest.py "$GUEST_DIR" >var/log/demo-guest.log 2>&1; then
    echo "could not build the demo guest (see var/log/demo-guest.log): no demo image" >&2
    GUEST_ARGS=()
  fi
fi
log "seeding the demo tenant, its image and the demo offering"
CLOUDMGR_DEMO_PASSWORD=$DEMO_PASSWORD "$PY" scripts/seed_demo.py "${GUEST_ARGS[@]}"

host=${LISTEN%:*}
port=${LISTEN##*:}
case "$host" in
  0.0.0.0|"") host=127.0.0.1 ;;
  "[::]") host="[::1]" ;;
esac
URL="http://$host:$port"
# The controller answers only for the host names it is reached by: the URL printed below.
export CLOUDMGR_ALLOWED_HOSTS=${CLOUDMGR_ALLOWED_HOSTS:-$host,localhost}

log "starting the controller on $LISTEN"
# Its own session: Ctrl-C in this terminal or closing it does not reach the controller.
setsid "$PY" manage.py runcontroller --listen "$LISTEN" >>"$LOG" 2>&1 </dev/null &
echo $! > "$PIDFILE"
for _ in $(seq 300); do
  curl -fsS --max-time 2 -o /dev/null "$URL/healthz" 2>/dev/null && break
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "the controller exited; the end of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    rm -f "$PIDFILE"
    exit 1
  fi
  sleep 0.1
done
if ! curl -fsS --max-time 5 -o /dev/null "$URL/healthz"; then
  echo "the controller does not answer on $URL/healthz; see $LOG" >&2
  exit 1
fi

log "starting the local agent"
AGENT_LINE=$(bash scripts/start_agent.sh "$URL" | tail -n 1)
read -r _ AGENT_HOST AGENT_URI <<<"$AGENT_LINE"
if [ "$AGENT_URI" = qemu:///system ]; then
  GUEST_NOTE="a real guest: its console log shows CLOUDMGR-DISK-TOKEN=..."
else
  GUEST_NOTE="simulated by libvirt's test driver: no console output"
fi

log "seeding the demo network and launching the demo instance"
CLOUDMGR_DEMO_PASSWORD=$DEMO_PASSWORD "$PY" scripts/seed_demo.py "${GUEST_ARGS[@]}" --network "$AGENT_HOST" demo-phys
DEMO_NOTE="no demo instance (no demo image)"
if [ ${#GUEST_ARGS[@]} -gt 0 ]; then
  DEMO_NOTE=$("$PY" scripts/demo_instance.py demo-1)
fi

cat <<INFO

cloudmgr is running at $URL/   (API: $URL/api/v1/, docs: $URL/api/v1/docs/)
  cloud admin:  admin / $ADMIN_PASSWORD   (kept in var/admin-password)
  demo tenant:  demo / $DEMO_PASSWORD   (member of project demo in domain demo; var/demo-password)
  host agent:   $AGENT_HOST on $AGENT_URI   (log: var/log/agent.log)
  demo launch:  image demo-guest, offering demo.tiny ($GUEST_NOTE), network demo-net
  demo-1:       $DEMO_NOTE
  log: $LOG   stop: make stop
INFO
