"""The networks app's policy actions (what a role may be allowed to do), registered in its ready()."""

from apps.core.policy import PLATFORM_KIND, READ, USE

NETWORK_READ = "networks.network.read"
# Choosing a network's type, physical network or VLAN id, sharing it, making a public pool.
NETWORK_PROVIDER = "networks.network.provider"
NETWORK_INFRASTRUCTURE_READ = "networks.infrastructure.read"
NETWORK_AUDIT_RUN = "networks.audit.run"

POLICY_ACTIONS = [
    (NETWORK_READ, READ, "See networks, subnets, ports, routers, floating IPs and security groups"),
    ("networks.network.create", USE, "Create a project network (a VLAN from the zone's pool)"),
    ("networks.network.update", USE, "Rename a network; name any address of it for a port"),
    ("networks.network.delete", USE, "Delete a network without ports"),
    (
        NETWORK_PROVIDER,
        PLATFORM_KIND,
        "Create shared, external and flat networks, choose physical networks and VLANs",
    ),
    ("networks.subnet.create", USE, "Add a subnet to a network"),
    ("networks.subnet.update", USE, "Rename a subnet, change its DNS servers"),
    ("networks.subnet.delete", USE, "Delete a subnet whose addresses are all free"),
    ("networks.port.create", USE, "Create a port on a network the project may use"),
    ("networks.port.update", USE, "Rename a port, change its security groups"),
    ("networks.port.delete", USE, "Delete a port that is not attached"),
    ("networks.floating_ip.create", USE, "Allocate a floating IP from a public pool"),
    ("networks.floating_ip.update", USE, "Associate a floating IP with a port, move or disassociate it"),
    ("networks.floating_ip.delete", USE, "Release a floating IP"),
    ("networks.router.create", USE, "Create a router"),
    ("networks.router.update", USE, "Add and remove router interfaces, set the gateway"),
    ("networks.router.delete", USE, "Delete a router without interfaces"),
    ("networks.security_group.create", USE, "Create a security group"),
    ("networks.security_group.update", USE, "Rename a security group, add and remove its rules"),
    ("networks.security_group.delete", USE, "Delete a security group no port uses"),
    (NETWORK_INFRASTRUCTURE_READ, PLATFORM_KIND, "See VLAN pools, hosts' network configuration and state"),
    (NETWORK_AUDIT_RUN, PLATFORM_KIND, "Have hosts compare their networks with the database and repair them"),
    ("networks.vlan_pool.create", PLATFORM_KIND, "Define a zone's VLAN pool"),
    ("networks.vlan_pool.delete", PLATFORM_KIND, "Delete a VLAN pool"),
    (
        "networks.host_network.update",
        PLATFORM_KIND,
        "Set a host's network-node role and physical network mappings",
    ),
]
