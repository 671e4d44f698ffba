"""Wait for the demo instance `make run` launched, and ping its address from this host: one line.

`demo_instance.py NAME`: waits (up to 180 s) for the demo project's instance NAME to be active with
an address, then pings that address from this host (busybox ping, up to 120 s: a real guest asks
DHCP for it once booted) and prints what happened, e.g.
`active, 10.99.0.3 on demo-net, answers ping from this host`.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import django

ACTIVE_SECONDS = 180
PING_SECONDS = 120


def address_of(name):
    from apps.compute.models import Instance
    from apps.networks.selectors import addresses_of

    instance = Instance.objects.filter(project__name="demo", name=name).exclude(vm_state="deleted").first()
    if instance is None:
        return None, "not launched"
    nics = addresses_of([instance.pk]).get(instance.pk, [])
    fixed = [(f["ip_address"], nic["network_name"]) for nic in nics for f in nic["fixed_ips"]]
    if instance.vm_state != "active" or instance.task_state or not fixed:
        return None, f"{instance.vm_state}{f' ({instance.task_state})' if instance.task_state else ''}"
    return fixed[0], "active"


def answers_ping(address):
    done = subprocess.run(
        ["busybox", "ping", "-c", "1", "-W", "1", address], capture_output=True, check=False
    )
    return done.returncode == 0


def main(name):
    deadline = time.monotonic() + ACTIVE_SECONDS
    found, state = address_of(name)
    while found is None and time.monotonic() < deadline:
        time.sleep(1)
        found, state = address_of(name)
    if found is None:
        return f"{state}: no address yet"
    address, network = found
    deadline = time.monotonic() + PING_SECONDS
    while time.monotonic() < deadline:
        if answers_ping(address):
            return f"{state}, {address} on {network}, answers ping from this host"
        time.sleep(1)
    return f"{state}, {address} on {network}, does not answer ping (yet): see its console log"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudmgr.settings")
    django.setup()
    print(main(sys.argv[1]))
