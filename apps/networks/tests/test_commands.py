"""The operator's commands: VLAN pools, host mappings, networks and their subnet, public pools, host state."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.infrastructure.tests.factories import HostFactory
from apps.networks.models import HostPhysicalNetwork, Network, VlanPool


def call(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def host(zone):
    return HostFactory(zone=zone, name="net-1.example.test")


def test_an_operator_sets_up_a_zone_network_and_public_pool_from_the_shell(zone, host, project):
    call("sethostnetwork", host.name, "--network-node", "--map", "physnet1=eth1", "--map", "public=eth2")
    assert dict(HostPhysicalNetwork.objects.values_list("physical_network", "interface")) == {
        "physnet1": "eth1",
        "public": "eth2",
    }
    assert "100-199" in call(
        "createvlanpool", "--zone", zone.name, "--physical-network", "physnet1", "--range", "100-199"
    )
    out = call(
        "createnetwork",
        "lan",
        "--zone",
        zone.name,
        "--type",
        "flat_dhcp",
        "--physical-network",
        "physnet1",
        "--shared-with-project",
        f"{project.domain.name}:{project.name}",
        "--cidr",
        "10.10.0.0/24",
        "--pool",
        "10.10.0.100-10.10.0.199",
        "--dns",
        "10.10.0.53",
    )
    assert "flat_dhcp on physnet1" in out
    assert "subnet 10.10.0.0/24" in out
    network = Network.objects.get(name="lan")
    assert network.subnets.get().allocation_pools == [["10.10.0.100", "10.10.0.199"]]
    assert network.access.get().project == project
    assert "253 addresses" in call(
        "createpublicpool",
        "internet",
        "--zone",
        zone.name,
        "--physical-network",
        "public",
        "--cidr",
        "198.51.100.0/24",
        "--gateway",
        "198.51.100.1",
    )
    tenant_net = call(
        "createnetwork", "private", "--zone", zone.name, "--project", f"{project.domain.name}:{project.name}"
    )
    assert "vlan on physnet1 vlan 1" in tenant_net
    state = json.loads(call("hostnetworkstate", host.name))
    assert {n["network_id"] for n in state["networks"]} == {
        str(network.pk),
        str(Network.objects.get(name="private").pk),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("createvlanpool", "--zone", "zone-a", "--physical-network", "p", "--range", "ten-twenty"),
            "not a VLAN range",
        ),
        (("createvlanpool", "--zone", "nowhere", "--physical-network", "p", "--range", "1-2"), "not_found"),
        (("sethostnetwork", "net-1.example.test", "--map", "physnet1"), "not PHYSNET=INTERFACE"),
        (("sethostnetwork", "net-1.example.test", "--map", "physnet1=eth1;reboot"), "bad_interface"),
        (("createnetwork", "x", "--zone", "zone-a", "--type", "flat"), "bad_physical_network"),
        (
            (
                "createnetwork",
                "x",
                "--zone",
                "zone-a",
                "--type",
                "flat",
                "--physical-network",
                "p",
                "--cidr",
                "10.0.0.0/33",
            ),
            "bad_cidr",
        ),
    ],
)
def test_a_mistake_is_one_line_and_nothing_is_half_made(zone, host, args, message):
    with pytest.raises(CommandError, match=message):
        call(*args)
    assert not Network.objects.exists()
    assert not VlanPool.objects.exists()
