"""The networks part of a schema-fuzzing world (apps/core/tests/fuzzing/world.py): objects every network
operation may act on, each in the state its operation starts from, and the values its body needs.

A fuzzer's random CIDR, VLAN range or gateway is almost never valid, so the bodies get real ones
(parallel lists: the hooks draw the same position from each of an operation's bindings). Each
operation that changes or removes an object has objects of its own, so that one operation's cases
do not use up what another needs.
"""

from apps.compute import states
from apps.compute.tests.factories import InstanceFactory
from apps.networks.services import floating_ips, host_networks, networks, routers, security_groups
from apps.networks.services.ports import create_port
from apps.quotas.models import UNLIMITED
from apps.quotas.services import set_limit

from .factories import PHYSNET, SYSTEM, flat_network, network_node, project_network, public_pool, vlan_pool
from .factories import nics_for as make_instance_nics

NETWORK_QUOTAS = ("networks", "subnets", "ports", "routers", "floating_ips", "security_groups")
PER_OPERATION = 3


def _ids(*objects):
    return [str(o.pk) for o in objects]


def _cidrs(prefix, count):
    return [f"{prefix}.{n}.0/24" for n in range(count)]


def _instances(project, offering, host, image, count):
    return [
        InstanceFactory(
            project=project,
            offering=offering,
            host=host,
            image=image,
            vm_state=states.ACTIVE,
            power_state="running",
        )
        for _ in range(count)
    ]


def build_network_world(*, project, zone, host, spare_host, offering, image):
    """{dictionary name: values} of the network objects.

    `host` carries the instances (it gets physnet1), `spare_host` nothing (its mappings may change).
    """
    for resource in (*NETWORK_QUOTAS, "security_group_rules"):
        set_limit(SYSTEM, project, resource, UNLIMITED)
    node = network_node(zone)
    host_networks.set_host_network(SYSTEM, host, physical_networks={PHYSNET: "eth1"})
    vlan_pool(zone, 100, 399)
    spare_vlan_pools = [vlan_pool(zone, 400 + 10 * n, 409 + 10 * n) for n in range(PER_OPERATION)]
    public = public_pool(zone, cidr="203.0.113.0/24")
    # A physical network carries one flat network per zone: the others are VLANs on it.
    spare_pools = [
        public_pool(zone, cidr=f"198.18.{n}.0/24", name=f"spare-{n}", network_type="vlan", vlan_id=3000 + n)
        for n in range(PER_OPERATION)
    ]
    shared = flat_network(
        zone, cidr="10.20.0.0/24", name="shared-dhcp", shared_with=[project], network_type="flat_dhcp"
    )
    private = project_network(project, zone, cidr="192.168.10.0/24")
    usable = [shared, private]
    subnetless = [_bare_network(project, zone, f"bare-{n}") for n in range(PER_OPERATION)]
    deletable_networks = [_bare_network(project, zone, f"gone-{n}") for n in range(PER_OPERATION)]
    # Each with a subnet of its own: one for a router to take, one to delete.
    attachable = [
        project_network(project, zone, name=f"joinable-{n}", cidr=f"192.168.{20 + n}.0/24")
        for n in range(PER_OPERATION)
    ]
    deletable_subnets = [
        project_network(project, zone, name=f"dropped-{n}", cidr=f"192.168.{30 + n}.0/24").subnets.get()
        for n in range(PER_OPERATION)
    ]

    def router(name, *, gateway=True):
        return routers.create_router(
            SYSTEM, project, name=name, zone=zone, external_network_id=public.pk if gateway else None
        )

    edge = router("edge")
    routers.add_interface(SYSTEM, edge, subnet_id=private.subnets.get().pk)
    spare_routers = [router(f"spare-{n}") for n in range(PER_OPERATION)]
    joined = []
    for n, network in enumerate(_joined_networks(project, zone)):
        joined_router = router(f"joined-{n}")
        routers.add_interface(SYSTEM, joined_router, subnet_id=network.subnets.get().pk)
        joined.append((joined_router, network.subnets.get()))
    deletable_routers = [router(f"gone-{n}", gateway=False) for n in range(PER_OPERATION)]

    ports = [_port(project, private, f"port-{n}") for n in range(PER_OPERATION)]
    deletable_ports = [_port(project, private, f"gone-{n}") for n in range(PER_OPERATION)]
    # Without a floating IP, for the free ones to be associated with.
    associable_ports = [_port(project, private, f"bare-{n}") for n in range(PER_OPERATION)]
    fips = [
        floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk) for _ in range(PER_OPERATION)
    ]
    associated = []
    for port in ports:
        fip = floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk)
        associated.append(floating_ips.associate(SYSTEM, fip, port_id=port.pk))
    deletable_fips = [
        floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk) for _ in range(PER_OPERATION)
    ]

    groups = [
        security_groups.create_security_group(SYSTEM, project, name=f"web-{n}") for n in range(PER_OPERATION)
    ]
    deletable_groups = [
        security_groups.create_security_group(SYSTEM, project, name=f"gone-{n}") for n in range(PER_OPERATION)
    ]
    rules = [
        security_groups.create_rule(
            SYSTEM, groups[0], direction="ingress", protocol="tcp", port_min=n, port_max=n
        )
        for n in (22, 80, 443)
    ]
    deletable_rules = [
        security_groups.create_rule(
            SYSTEM, groups[1], direction="ingress", protocol="tcp", port_min=n, port_max=n
        )
        for n in (22, 80, 443)
    ]

    attaching = _instances(project, offering, host, image, PER_OPERATION)
    detaching = _instances(project, offering, host, image, PER_OPERATION)
    detached_ports = [
        make_instance_nics(project, [{"network_id": private.pk}], instance, host)[0] for instance in detaching
    ]
    return {
        "network_hosts": _ids(node, host),
        "spare_hosts": _ids(spare_host),
        "physical_networks": [PHYSNET],
        "public_physical_networks": ["public"],
        "spare_vlan_pools": _ids(*spare_vlan_pools),
        "vlan_pools": _ids(*spare_vlan_pools),
        "new_vlan_mins": [1000 + 10 * n for n in range(8)],
        "new_vlan_maxes": [1009 + 10 * n for n in range(8)],
        "public_pools": _ids(public),
        "spare_public_pools": _ids(*spare_pools),
        "new_pool_names": [f"pool-{n}" for n in range(8)],
        "new_pool_cidrs": _cidrs("198.19", 8),
        "new_pool_gateways": [f"198.19.{n}.1" for n in range(8)],
        "vlan_network_types": ["vlan"] * 8,
        "new_pool_vlan_ids": [3100 + n for n in range(8)],
        "networks": _ids(shared, private, *subnetless),
        "usable_networks": _ids(*usable),
        "launch_networks": _ids(shared),
        "subnetless_networks": _ids(*subnetless),
        "deletable_networks": _ids(*deletable_networks),
        "new_network_names": [f"net-{n}" for n in range(8)],
        "subnets": _ids(private.subnets.get(), shared.subnets.get()),
        "deletable_subnets": _ids(*deletable_subnets),
        "new_subnet_cidrs": _cidrs("10.77", 8),
        "routers": _ids(edge, *spare_routers),
        "spare_routers": _ids(*spare_routers),
        "deletable_routers": _ids(*deletable_routers),
        "joinable_subnets": _ids(*(n.subnets.get() for n in attachable)),
        "joined_routers": _ids(*(r for r, _ in joined)),
        "joined_subnets": _ids(*(s for _, s in joined)),
        "ports": _ids(*ports),
        "deletable_ports": _ids(*deletable_ports),
        "associable_ports": _ids(*associable_ports),
        "floating_ips": _ids(*fips, *associated),
        "free_floating_ips": _ids(*fips),
        "associated_floating_ips": _ids(*associated),
        "deletable_floating_ips": _ids(*deletable_fips),
        "security_groups": _ids(*groups),
        "deletable_security_groups": _ids(*deletable_groups),
        "security_group_rules": _ids(*rules),
        "deletable_security_group_rules": _ids(*deletable_rules),
        "protocols": ["tcp", "udp", "icmp"],
        "instances_attach_interface": _ids(*attaching),
        "instances_detach_interface": _ids(*detaching),
        "detachable_ports": _ids(*detached_ports),
    }


def _joined_networks(project, zone):
    return [
        project_network(project, zone, name=f"routed-{n}", cidr=f"192.168.{40 + n}.0/24")
        for n in range(PER_OPERATION)
    ]


def _bare_network(project, zone, name):
    return networks.create_network(SYSTEM, name=name, zone=zone, project=project)


def _port(project, network, name):
    return create_port(SYSTEM, project, network_id=network.pk, name=name)
