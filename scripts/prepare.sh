#!/usr/bin/env bash
# Make this Debian 12 machine ready to run or test cloudmgr, as root. Safe to run again:
# every step checks first and skips what is already done.
#  1. Debian packages (all apt work happens here, before any service starts)
#  2. the virtualenv in .venv with the pinned requirements
#  3. PostgreSQL and Redis running and reachable
#  4. var/env with a generated secret key
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

APT_PACKAGES=(
  redis-server slapd ldap-utils chromium libldap2-dev libsasl2-dev libvirt-dev qemu-utils
  # The real guest (scripts/build_test_guest.py) and libvirt under qemu:///system; nothing is started here.
  libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  dnsmasq-base iproute2 nftables bridge-utils busybox-static cpio kmod
  # The network tests watch 802.1Q tags on the trunk between two test hosts.
  tcpdump
  # The agent dispatch over AMQP (apps/compute/tests/test_rabbitmq.py starts its own node).
  rabbitmq-server
  # The Prometheus path of monitoring (apps/monitoring/tests/test_prometheus.py starts its own server).
  prometheus
)

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root (it installs Debian packages and starts PostgreSQL and Redis)" >&2
  exit 1
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # --no-upgrade: naming an installed package must never upgrade it (e.g. the PostgreSQL server).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python packages"
  # The machine's pip config names local mirror folders that may be absent; their warnings are noise.
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt 2> >(grep -v '^WARNING: Location' >&2)
  echo "$want" > "$stamp"
fi

mkdir -p var/run var/log
if [ ! -s var/env ]; then
  log "writing var/env (secret key)"
  umask 077
  {
    echo "CLOUDMGR_SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')"
  } > var/env
fi

if ! pg_isready -q -h /var/run/postgresql; then
  log "starting PostgreSQL"
  pg_ctlcluster 15 main start
  for _ in $(seq 50); do pg_isready -q -h /var/run/postgresql && break; sleep 0.1; done
fi
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" | grep -q 1; then
  su postgres -c "createuser -s root"
fi
psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='cloudmgr'" | grep -q 1 \
  || createdb cloudmgr
psql -d cloudmgr -tAc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 || true

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --port 6379 --bind 127.0.0.1 --save "" --appendonly no \
    --pidfile "$ROOT/var/run/redis.pid" --logfile "$ROOT/var/log/redis.log"
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
