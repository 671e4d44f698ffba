"""The fake driver's NICs: each one a veth whose host end carries the tap's name.

Where libvirt would create a tap for a guest's NIC on the network's bridge, the
fake driver creates a veth pair: the tap-named end on the bridge in the host's
network namespace, the other end (``eth<n>``, with the guest's MAC) in a namespace
of its own per instance, ``[<host namespace>-]cmi-<instance id>``, so tests send
real traffic "from the guest".
"""

from ..network.commands import Netns


def instance_namespace(host_namespace, instance_id):
    return f"{host_namespace}-cmi-{instance_id}" if host_namespace else f"cmi-{instance_id}"


def plug(host_namespace, instance_id, index, nic):
    guest = Netns(instance_namespace(host_namespace, instance_id))
    guest.create()
    host = Netns(host_namespace)
    host.ip("link", "del", nic.device_name, check=False)
    inside = f"eth{index}"
    guest.ip("link", "del", inside, check=False)
    where = ("netns", guest.name)
    host.ip(
        "link", "add", nic.device_name, "mtu", str(nic.mtu), "type", "veth", "peer", "name", inside, *where
    )
    host.ip("link", "set", "dev", nic.device_name, "master", nic.bridge, "up")
    guest.ip("link", "set", "dev", inside, "address", nic.mac, "mtu", str(nic.mtu), "up")


def unplug(host_namespace, nic):
    Netns(host_namespace).ip("link", "del", nic.device_name, check=False)


def remove(host_namespace, instance_id, nics):
    for nic in nics:
        unplug(host_namespace, nic)
    Netns(instance_namespace(host_namespace, instance_id)).delete()
