"""Whatever a tenant sends to the networks API is a 4xx with a code, never a 500, and changes nothing."""

import pytest

from apps.identity.tests.factories import ProjectFactory
from apps.networks.models import Network, Port, SecurityGroupRule, Subnet
from apps.networks.services import networks

from .factories import SYSTEM, flat_network


@pytest.fixture
def network(project, zone, node, pool):
    return networks.create_network(SYSTEM, name="private", zone=zone, project=project)


def bodies(network_id):
    return [
        (
            "subnets/",
            {
                "network_id": network_id,
                "cidr": "10.0.0.0/24",
                "allocation_pools": [{"start": "2001:db8::1", "end": "10.0.0.9"}],
            },
        ),
        ("subnets/", {"network_id": network_id, "cidr": "10.0.0.0/24", "gateway_ip": "2001:db8::1"}),
        ("subnets/", {"network_id": network_id, "cidr": "0.0.0.0/0"}),
        ("subnets/", {"network_id": network_id, "cidr": "169.254.0.0/16"}),
        ("subnets/", {"network_id": network_id, "cidr": "::/0"}),
        ("subnets/", {"network_id": network_id, "cidr": "10.0.0.0/24", "dns_nameservers": ["x"]}),
        ("subnets/", {"network_id": "not-a-uuid", "cidr": "10.0.0.0/24"}),
        ("subnets/", {"network_id": network_id, "cidr": "10.0.0.0/24", "name": "a\x00b"}),
        ("ports/", {"network_id": network_id, "fixed_ips": [{"ip_address": "2001:db8::5"}]}),
        ("ports/", {"network_id": network_id, "fixed_ips": [{}]}),
        (
            "ports/",
            {"network_id": network_id, "fixed_ips": [{"subnet_id": "6b1a3c6e-0000-4000-8000-000000000000"}]},
        ),
        ("ports/", {"network_id": network_id, "mac_address": "fa:16:3e:00:00"}),
        ("ports/", {"network_id": network_id, "mac_address": "00:00:00:00:00:00"}),
        ("ports/", {"network_id": network_id, "project_id": str(ProjectFactory().pk)}),
        ("ports/", {"network_id": network_id, "fixed_ips": [{"ip_address": "10.0.0.5"}] * 9}),
        ("networks/", {"name": "x", "zone_id": "6b1a3c6e-0000-4000-8000-000000000000"}),
        ("networks/", {"name": "", "zone_id": "6b1a3c6e-0000-4000-8000-000000000000"}),
        ("networks/", {"name": "x" * 65, "zone_id": "6b1a3c6e-0000-4000-8000-000000000000"}),
        ("security-groups/", {"name": "tab\there"}),
        (
            "security-group-rules/",
            {"security_group_id": "6b1a3c6e-0000-4000-8000-000000000000", "direction": "ingress"},
        ),
        ("floating-ips/", {"network_id": network_id}),
        ("routers/", {"name": "r", "zone_id": "6b1a3c6e-0000-4000-8000-000000000000"}),
    ]


@pytest.mark.parametrize("number", range(22))
def test_malformed_or_hostile_bodies_are_refused_with_a_code(api, network, number):
    path, body = bodies(str(network.pk))[number]
    before = (
        Network.objects.count(),
        Subnet.objects.count(),
        Port.objects.count(),
        SecurityGroupRule.objects.count(),
    )
    response = api.post(f"/api/v1/{path}", body, format="json")
    assert 400 <= response.status_code < 500, (path, body, response.status_code, response.content)
    assert response.data["error"]["code"]
    after = (
        Network.objects.count(),
        Subnet.objects.count(),
        Port.objects.count(),
        SecurityGroupRule.objects.count(),
    )
    assert after == before


def test_a_tenant_on_a_shared_flat_network_cannot_take_the_physical_gateway_or_the_dhcp_address(
    api, project, zone
):
    shared = flat_network(
        zone, cidr="10.66.0.0/24", shared_with=[project], allocation_pools=[("10.66.0.100", "10.66.0.200")]
    )
    for address, code in (("10.66.0.1", "ip_address_reserved"), ("10.66.0.254", "ip_address_outside_pool")):
        response = api.post(
            "/api/v1/ports/",
            {"network_id": str(shared.pk), "fixed_ips": [{"ip_address": address}]},
            format="json",
        )
        assert (response.status_code, response.data["error"]["code"]) == (400, code)
