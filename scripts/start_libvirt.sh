#!/usr/bin/env bash
# Make qemu:///system answer on this machine (no systemd): /dev/kvm group kvm mode 0660 first (else
# every capability probe re-runs QEMU: a domain start takes ~48 s instead of ~0.4 s), then virtlogd
# (domains cannot start without it), then libvirtd. Daemons already running are kept.
# Exit 0 once `virsh -c qemu:///system version` answers; non-zero when libvirt cannot run here.
# Prints, for each daemon it started, a line `started <name> <pid>` (tests stop only those).
set -euo pipefail
WAIT_TENTHS=${LIBVIRT_WAIT_TENTHS:-600}

command -v libvirtd >/dev/null && command -v virtlogd >/dev/null && command -v virsh >/dev/null || {
  echo "libvirt is not installed" >&2
  exit 1
}
if [ -e /dev/kvm ]; then
  chgrp kvm /dev/kvm && chmod 660 /dev/kvm
fi

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && [ "$(ps -o stat= -p "$(cat "$1")")" != Z ]; }

for daemon in virtlogd libvirtd; do
  if ! running "/run/$daemon.pid"; then
    "$daemon" -d
    for _ in $(seq 50); do running "/run/$daemon.pid" && break; sleep 0.1; done
    running "/run/$daemon.pid" || { echo "$daemon did not start" >&2; exit 1; }
    echo "started $daemon $(cat "/run/$daemon.pid")"
  fi
done
for _ in $(seq "$WAIT_TENTHS"); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "qemu:///system does not answer" >&2
exit 1
