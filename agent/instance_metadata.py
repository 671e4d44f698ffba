"""What an instance learns about itself: the metadata service's answers and the config drive's files.

Built from two sources only: the controller's InstanceMetadata (identity, keys,
user data), fetched over the host's signed endpoint, and the host's desired
network state (the instance's ports and their networks). The same functions feed
the HTTP metadata service (EC2-style ``/latest/...`` and OpenStack-style
``/openstack/latest/...``) and the config drive, so both say the same thing.
"""

import ipaddress
import json

from .network.names import METADATA_ADDRESS

EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2008-02-01", "2008-09-01", "2009-04-04", "latest")
OPENSTACK_VERSIONS = (
    "2012-08-10",
    "2013-04-04",
    "2013-10-17",
    "2015-10-15",
    "2016-06-30",
    "2017-02-22",
    "2018-08-27",
    "latest",
)
ON_LINK = "0.0.0.0"  # noqa: S104 (a route's gateway meaning "on the link", not an address to bind)
OPENSTACK_FILES = ("meta_data.json", "network_data.json", "user_data", "vendor_data.json")
TEXT, JSON_TYPE, OCTETS = "text/plain", "application/json", "application/octet-stream"


def instance_ports(state, instance_id):
    return [p for p in state.ports if p.instance_id == instance_id]


def openstack_meta_data(meta):
    keys = {key.name: key.key for key in meta.public_keys}
    return {
        "uuid": meta.instance_id,
        "name": meta.name,
        "hostname": meta.hostname,
        "project_id": meta.project_id,
        "availability_zone": meta.availability_zone,
        "launch_index": 0,
        "public_keys": keys,
        "keys": [{"name": name, "type": "ssh", "data": key} for name, key in keys.items()],
        "meta": {},
        "devices": [],
    }


def network_data(state, instance_id):
    """OpenStack's network_data.json for the instance's ports."""
    links, networks, dns = [], [], []
    for port in instance_ports(state, instance_id):
        spec = state.network(port.network_id)
        links.append(
            {
                "id": port.device_name,
                "type": "phy",
                "ethernet_mac_address": port.mac,
                "mtu": spec.mtu,
                "vif_id": port.port_id,
            }
        )
        for fixed in port.fixed_ips:
            subnet = next(s for s in spec.subnets if s.subnet_id == fixed.subnet_id)
            entry = {"id": f"network{len(networks)}", "link": port.device_name, "network_id": port.network_id}
            if subnet.ip_version == 6:
                entry["type"] = "ipv6_slaac"
            else:
                entry.update(
                    _ipv4_entry(subnet, fixed.ip_address, spec.type != "flat" and subnet.dhcp_enabled)
                )
            entry["services"] = [{"type": "dns", "address": ns} for ns in subnet.dns_nameservers]
            dns += [ns for ns in subnet.dns_nameservers if ns not in dns]
            networks.append(entry)
    return {"links": links, "networks": networks, "services": [{"type": "dns", "address": ns} for ns in dns]}


def _ipv4_entry(subnet, address, dhcp):
    routes = [{"network": METADATA_ADDRESS, "netmask": "255.255.255.255", "gateway": ON_LINK}]
    if subnet.gateway_ip:
        routes.append({"network": ON_LINK, "netmask": ON_LINK, "gateway": subnet.gateway_ip})
    return {
        "type": "ipv4_dhcp" if dhcp else "ipv4",
        "ip_address": address,
        "netmask": str(subnet.network.netmask),
        "routes": routes,
    }


def ec2_meta_data(meta, state):
    """The EC2 ``meta-data`` tree: dicts are directories, strings are leaves."""
    ports = instance_ports(state, meta.instance_id)
    ipv4 = [
        f.ip_address for p in ports for f in p.fixed_ips if ipaddress.ip_address(f.ip_address).version == 4
    ]
    public = [ip for p in ports for ip in p.floating_ips]
    groups = {g.security_group_id: g.name or g.security_group_id for g in state.security_groups}
    names = sorted({groups[g] for p in ports for g in p.security_group_ids})
    tree = {
        "ami-id": meta.image_id or "",
        "ami-launch-index": "0",
        "hostname": meta.hostname,
        "local-hostname": meta.hostname,
        "instance-id": meta.instance_id,
        "instance-type": meta.offering,
        "placement": {"availability-zone": meta.availability_zone},
        "reservation-id": f"r-{meta.instance_id[:8]}",
        "security-groups": "\n".join(names),
    }
    if ipv4:
        tree["local-ipv4"] = ipv4[0]
    if public:
        tree["public-ipv4"] = public[0]
    if meta.public_keys:
        tree["public-keys"] = {
            f"{i}={key.name}": {"openssh-key": key.key} for i, key in enumerate(meta.public_keys)
        }
    return tree


def openstack_files(meta, state):
    user_data = meta.user_data()
    files = {
        "meta_data.json": json.dumps(openstack_meta_data(meta), sort_keys=True).encode(),
        "network_data.json": json.dumps(network_data(state, meta.instance_id), sort_keys=True).encode(),
        "vendor_data.json": b"{}",
    }
    if user_data is not None:
        files["user_data"] = user_data
    return files


def _listing(items):
    return ("\n".join(items)).encode()


def _ec2_node(tree, parts):
    node = tree
    for part in parts:
        if not isinstance(node, dict):
            return None
        if part not in node and "=" not in part and part.isdigit():
            part = next((k for k in node if k.split("=", 1)[0] == part), part)
        node = node.get(part)
        if node is None:
            return None
    return node


def answer(path, meta, state):
    """(HTTP status, content type, body) for one GET of the metadata service."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if not parts:
        return 200, TEXT, _listing(EC2_VERSIONS)
    if parts[0] == "openstack":
        return _openstack(parts[1:], meta, state)
    if parts[0] not in EC2_VERSIONS:
        return 404, TEXT, b"not found"
    if len(parts) == 1:
        return 200, TEXT, _listing(["meta-data/", "user-data"] if meta.user_data_b64 else ["meta-data/"])
    if parts[1] == "user-data" and len(parts) == 2:
        data = meta.user_data()
        return (200, OCTETS, data) if data is not None else (404, TEXT, b"not found")
    if parts[1] != "meta-data":
        return 404, TEXT, b"not found"
    node = _ec2_node(ec2_meta_data(meta, state), parts[2:])
    if node is None:
        return 404, TEXT, b"not found"
    if isinstance(node, dict):
        # EC2 lists keys as "0=name", with no slash, though each is a directory.
        slash = parts[2:] != ["public-keys"]
        return (
            200,
            TEXT,
            _listing(k + ("/" if slash and isinstance(v, dict) else "") for k, v in node.items()),
        )
    return 200, TEXT, node.encode()


def _openstack(parts, meta, state):
    if not parts:
        return 200, TEXT, _listing(OPENSTACK_VERSIONS)
    if parts[0] not in OPENSTACK_VERSIONS:
        return 404, TEXT, b"not found"
    files = openstack_files(meta, state)
    if len(parts) == 1:
        return 200, TEXT, _listing(name for name in OPENSTACK_FILES if name in files)
    if len(parts) == 2 and parts[1] in files:
        return 200, (OCTETS if parts[1] == "user_data" else JSON_TYPE), files[parts[1]]
    return 404, TEXT, b"not found"
