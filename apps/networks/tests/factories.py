"""Networks for tests, made through the services as a cloud admin would make them."""

from apps.core.actor import Actor
from apps.infrastructure.tests.factories import HostFactory
from apps.networks.models import Network
from apps.networks.services import host_networks, networks, pools, subnets
from apps.networks.services.instance_ports import make_nics, plan_nics
from apps.quotas import services as quotas

SYSTEM = Actor.system("test")
PHYSNET = "physnet1"


def network_node(zone, name=None, **mappings):
    """An up host of `zone`, a network node carrying physnet1, public (and `mappings`) on its interfaces."""
    host = HostFactory(zone=zone, **({"name": name} if name else {}))
    host_networks.set_host_network(
        SYSTEM, host, network_node=True, physical_networks={PHYSNET: "eth1", "public": "eth2", **mappings}
    )
    return host


def compute_host(zone, **mappings):
    host = HostFactory(zone=zone)
    host_networks.set_host_network(SYSTEM, host, physical_networks={PHYSNET: "eth1", **mappings})
    return host


def vlan_pool(zone, first=100, last=199, physical_network=PHYSNET):
    return pools.create_vlan_pool(
        SYSTEM, zone=zone, physical_network=physical_network, vlan_min=first, vlan_max=last
    )


def flat_network(zone, cidr="10.20.0.0/24", name="flat", shared_with=(), network_type=Network.FLAT, **subnet):
    """A shared flat network (no DHCP unless flat_dhcp) with one subnet."""
    network = networks.create_network(
        SYSTEM,
        name=name,
        zone=zone,
        network_type=network_type,
        physical_network=PHYSNET,
        shared_with=shared_with,
    )
    subnets.create_subnet(SYSTEM, network, cidr=cidr, **subnet)
    return network


def project_network(project, zone, cidr="192.168.10.0/24", name="private", actor=SYSTEM, **subnet):
    """A VLAN network of `project`, its VLAN from the zone's pools, with one subnet."""
    network = networks.create_network(actor, name=name, zone=zone, project=project)
    subnets.create_subnet(actor, network, cidr=cidr, **subnet)
    return network


def public_pool(zone, cidr="203.0.113.0/24", name="public", **options):
    return pools.create_public_pool(
        SYSTEM,
        name=name,
        zone=zone,
        physical_network="public",
        cidr=cidr,
        gateway_ip=options.pop("gateway_ip", cidr.rsplit(".", 1)[0] + ".1"),
        **options,
    )


def nics_for(project, requested, instance, host=None):
    """An instance's NICs as compute makes them in a create: planned, claimed, made (on `host`)."""
    plan = plan_nics(SYSTEM, project, requested)
    quotas.claim_all(project, plan.claims())
    return make_nics(SYSTEM, project, plan, instance.pk, host, instance.name)
