"""Subnets and ports through the API: validation with stable codes, overlap rules, addresses, quotas."""

import pytest

from apps.networks.models import Network, Port, Subnet, SubnetAddress
from apps.networks.services import networks
from apps.quotas import services as quotas

from .factories import SYSTEM, flat_network, project_network


@pytest.fixture
def network(project, zone, node, pool):
    return networks.create_network(SYSTEM, name="private", zone=zone, project=project)


def add_subnet(api, network, **body):
    return api.post("/api/v1/subnets/", {"network_id": str(network.pk), **body}, format="json")


def test_a_subnet_gets_its_default_gateway_and_pool_and_the_dhcp_server_an_address(api, network, project):
    response = add_subnet(api, network, cidr="10.0.0.0/24", dns_nameservers=["9.9.9.9"])
    assert response.status_code == 201, response.content
    body = response.data
    assert (body["gateway_ip"], body["allocation_pools"]) == (
        "10.0.0.1",
        [{"start": "10.0.0.2", "end": "10.0.0.254"}],
    )
    assert body["dns_nameservers"] == ["9.9.9.9"]
    assert SubnetAddress.objects.filter(subnet_id=body["id"], in_pool=True).count() == 253
    dhcp = Port.objects.get(network=network, device_owner=Port.DHCP)
    assert list(dhcp.addresses.values_list("address", flat=True)) == ["10.0.0.2"]
    assert quotas.usage_of(project)["subnets"][1] == 1


def test_overlapping_subnets_are_a_409_in_one_network_and_fine_in_two(api, network, project, zone):
    assert add_subnet(api, network, cidr="10.0.0.0/24").status_code == 201
    response = add_subnet(api, network, cidr="10.0.0.0/16")
    assert (response.status_code, response.data["error"]["code"]) == (409, "subnet_overlaps")
    twin = networks.create_network(SYSTEM, name="twin", zone=zone, project=project)
    assert add_subnet(api, twin, cidr="10.0.0.0/24").status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"cidr": "10.0.0.1/24"}, "bad_cidr"),
        ({"cidr": "banana"}, "bad_cidr"),
        ({"cidr": "10.0.0.0/31"}, "subnet_too_small"),
        ({"cidr": "224.0.0.0/24"}, "bad_cidr"),
        ({"cidr": "2001:db8::/48"}, "bad_ipv6_prefix"),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.1.1"}, "bad_gateway"),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.255"}, "bad_gateway"),
        (
            {"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.0.50", "end": "10.0.0.10"}]},
            "bad_allocation_pool",
        ),
        (
            {"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.0.1", "end": "10.0.0.10"}]},
            "bad_allocation_pool",
        ),
        (
            {
                "cidr": "10.0.0.0/24",
                "allocation_pools": [
                    {"start": "10.0.0.10", "end": "10.0.0.20"},
                    {"start": "10.0.0.15", "end": "10.0.0.30"},
                ],
            },
            "bad_allocation_pool",
        ),
        ({"cidr": "10.0.0.0/24", "reserved_addresses": ["10.1.0.1"]}, "bad_reserved_address"),
        ({"cidr": "10.0.0.0/24", "ipv6_mode": "slaac"}, "bad_ipv6_mode"),
        ({"cidr": "10.0.0.0/8"}, "pool_too_large"),
    ],
)
def test_a_bad_subnet_is_a_400_with_its_code_and_nothing_is_made(api, network, body, code):
    response = add_subnet(api, network, **body)
    assert response.status_code == 400, response.content
    assert response.data["error"]["code"] == code
    assert not Subnet.objects.exists()
    assert not SubnetAddress.objects.exists()


def test_an_ipv6_subnet_on_a_network_whose_mtu_is_too_small_is_refused(admin_api, zone):
    network = networks.create_network(
        SYSTEM, name="tiny", zone=zone, network_type="flat", physical_network="physnet1", mtu=1000
    )
    response = add_subnet(admin_api, network, cidr="2001:db8::/64")
    assert (response.status_code, response.data["error"]["code"]) == (400, "mtu_too_small")


def test_a_member_adds_no_subnet_to_a_shared_network(api, project, zone):
    network = flat_network(zone, shared_with=[project])
    response = add_subnet(api, network, cidr="10.77.0.0/24")
    assert response.status_code == 403


def test_a_port_gets_an_address_a_mac_and_the_default_group(api, network, project):
    add_subnet(api, network, cidr="10.0.0.0/24")
    response = api.post("/api/v1/ports/", {"network_id": str(network.pk), "name": "nic"}, format="json")
    assert response.status_code == 201, response.content
    body = response.data
    assert [f["ip_address"] for f in body["fixed_ips"]] == ["10.0.0.3"]
    assert body["mac_address"].startswith("fa:16:3e:")
    groups = api.get("/api/v1/security-groups/").data["results"]
    assert [g["name"] for g in groups] == ["default"]
    assert body["security_group_ids"] == [groups[0]["id"]]
    assert "host_id" not in body
    shown = api.get(f"/api/v1/ports/{body['id']}/").data
    assert (shown["fixed_ips"], shown["created_at"]) == (body["fixed_ips"], body["created_at"])
    assert body["created_at"] is not None
    assert quotas.usage_of(project)["ports"][1] == 1


def test_a_port_on_another_projects_network_or_a_public_pool_is_refused_as_unknown(api, zone, node, pool):
    from apps.identity.tests.factories import ProjectFactory

    theirs = project_network(ProjectFactory(), zone)
    public = flat_network(zone, cidr="203.0.113.0/24", name="pub", network_type="flat")
    Network.objects.filter(pk=public.pk).update(external=True)
    for network in (theirs, public):
        response = api.post("/api/v1/ports/", {"network_id": str(network.pk)}, format="json")
        assert (response.status_code, response.data["error"]["code"]) == (400, "network_not_found")
    assert Port.objects.filter(device_owner="").count() == 0


def test_a_port_with_another_projects_security_group_is_refused(api, network, project):
    from apps.identity.tests.factories import ProjectFactory
    from apps.networks.services.security_groups import default_group

    add_subnet(api, network, cidr="10.0.0.0/24")
    foreign = default_group(ProjectFactory())
    body = {"network_id": str(network.pk), "security_group_ids": [str(foreign.pk)]}
    response = api.post("/api/v1/ports/", body, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (400, "security_group_not_found")
    assert not Port.objects.filter(device_owner="").exists()


def test_a_port_quota_refuses_and_leaves_the_address_free(api, network, project):
    add_subnet(api, network, cidr="10.0.0.0/24")
    quotas.set_limit(SYSTEM, project, "ports", 0)
    response = api.post("/api/v1/ports/", {"network_id": str(network.pk)}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (409, "quota_exceeded")
    assert SubnetAddress.objects.filter(port__device_owner="").count() == 0


def test_a_port_changes_its_security_groups_and_a_subnet_with_ports_is_not_deleted(api, network, project):
    subnet = add_subnet(api, network, cidr="10.0.0.0/24").data
    port = api.post("/api/v1/ports/", {"network_id": str(network.pk)}, format="json").data
    web = api.post("/api/v1/security-groups/", {"name": "web"}, format="json").data
    response = api.patch(f"/api/v1/ports/{port['id']}/", {"security_group_ids": [web["id"]]}, format="json")
    assert response.data["security_group_ids"] == [web["id"]]
    response = api.delete(f"/api/v1/subnets/{subnet['id']}/")
    assert (response.status_code, response.data["error"]["code"]) == (409, "subnet_in_use")
    api.delete(f"/api/v1/ports/{port['id']}/")
    assert api.delete(f"/api/v1/subnets/{subnet['id']}/").status_code == 204
    assert quotas.usage_of(project)["subnets"][1] == 0


def test_only_the_networks_owners_choose_a_mac_and_a_multicast_one_is_refused(
    api, admin_api, network, project, zone
):
    add_subnet(api, network, cidr="10.0.0.0/24")
    body = {"network_id": str(network.pk), "mac_address": "02:00:00:00:00:01"}
    assert api.post("/api/v1/ports/", body, format="json").data["mac_address"] == "02:00:00:00:00:01"
    again = api.post("/api/v1/ports/", body, format="json")
    assert (again.status_code, again.data["error"]["code"]) == (409, "mac_address_in_use")
    multicast = api.post("/api/v1/ports/", {**body, "mac_address": "01:00:5e:00:00:01"}, format="json")
    assert (multicast.status_code, multicast.data["error"]["code"]) == (400, "bad_mac_address")
    shared = flat_network(zone, cidr="10.88.0.0/24", shared_with=[project])
    taken = api.post(
        "/api/v1/ports/", {"network_id": str(shared.pk), "mac_address": "02:00:00:00:00:09"}, format="json"
    )
    assert taken.status_code == 403
