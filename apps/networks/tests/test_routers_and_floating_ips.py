"""Routers and floating IPs: a router joins a project's VLAN subnets to a public pool, DNATs floating IPs."""

import pytest

from apps.networks.models import FloatingIP, Port, Router, SubnetAddress
from apps.quotas import services as quotas

from .factories import flat_network, project_network, public_pool


@pytest.fixture
def public(zone, node):
    return public_pool(zone)


@pytest.fixture
def private(project, zone, node, pool):
    return project_network(project, zone, cidr="192.168.1.0/24")


def post(api, path, **body):
    return api.post(f"/api/v1/{path}", body, format="json")


@pytest.fixture
def router(api, zone, public):
    response = post(api, "routers/", name="edge", zone_id=str(zone.pk), external_network_id=str(public.pk))
    assert response.status_code == 201, response.content
    return response.data


def test_a_router_is_placed_on_the_network_node_with_its_gateway_on_the_public_pool(
    router, node, project, public
):
    assert router["external_gateway"] == {"network_id": str(public.pk), "ip_addresses": ["203.0.113.2"]}
    assert "host_id" not in router
    assert Router.objects.get(pk=router["id"]).host == node
    assert quotas.usage_of(project)["routers"][1] == 1


def test_a_router_is_renamed(api, router):
    response = api.patch(f"/api/v1/routers/{router['id']}/", {"name": "core"}, format="json")
    assert (response.status_code, response.data["name"]) == (200, "core")
    response = api.patch(f"/api/v1/routers/{router['id']}/", {"name": ""}, format="json")
    assert response.status_code == 400


def test_a_router_patched_with_no_field_is_left_as_it_is(api, router):
    response = api.patch(f"/api/v1/routers/{router['id']}/", {}, format="json")
    assert (response.status_code, response.data["name"]) == (200, "edge")


def test_an_interface_takes_the_subnets_gateway_and_is_removed_again(api, router, private):
    subnet = private.subnets.get()
    response = post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(subnet.pk))
    assert response.status_code == 200, response.content
    [interface] = response.data["interfaces"]
    assert (interface["subnet_id"], interface["ip_address"]) == (str(subnet.pk), "192.168.1.1")
    again = post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(subnet.pk))
    assert (again.status_code, again.data["error"]["code"]) == (409, "subnet_already_attached")
    deleted = api.delete(f"/api/v1/routers/{router['id']}/")
    assert (deleted.status_code, deleted.data["error"]["code"]) == (409, "router_in_use")
    assert (
        post(api, f"routers/{router['id']}/remove-interface/", subnet_id=str(subnet.pk)).data["interfaces"]
        == []
    )
    assert api.delete(f"/api/v1/routers/{router['id']}/").status_code == 204
    assert not Port.objects.filter(device_owner__startswith="network:router").exists()


def test_a_router_joins_no_two_overlapping_subnets(api, router, project, zone, private):
    twin = project_network(project, zone, cidr="192.168.1.0/25", name="twin")
    post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(private.subnets.get().pk))
    response = post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(twin.subnets.get().pk))
    assert (response.status_code, response.data["error"]["code"]) == (409, "subnet_overlaps")


def test_a_tenant_router_never_becomes_the_gateway_of_a_shared_network(api, router, project, zone):
    shared = flat_network(zone, cidr="10.50.0.0/24", shared_with=[project])
    response = post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(shared.subnets.get().pk))
    assert (response.status_code, response.data["error"]["code"]) == (400, "subnet_not_found")
    assert not SubnetAddress.objects.filter(address="10.50.0.1").exists()


def test_a_floating_ip_is_allocated_associated_moved_disassociated_and_released(
    api, router, private, public, project
):
    post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(private.subnets.get().pk))
    first = post(api, "ports/", network_id=str(private.pk)).data
    second = post(api, "ports/", network_id=str(private.pk)).data
    floating = post(api, "floating-ips/", network_id=str(public.pk))
    assert floating.status_code == 201, floating.content
    fip = floating.data
    assert (fip["floating_ip_address"], fip["port_id"]) == ("203.0.113.3", None)
    assert quotas.usage_of(project)["floating_ips"][1] == 1

    associated = post(api, f"floating-ips/{fip['id']}/associate/", port_id=first["id"]).data
    assert (associated["port_id"], associated["fixed_ip_address"], associated["router_id"]) == (
        first["id"],
        first["fixed_ips"][0]["ip_address"],
        router["id"],
    )
    moved = post(api, f"floating-ips/{fip['id']}/associate/", port_id=second["id"]).data
    assert moved["fixed_ip_address"] == second["fixed_ips"][0]["ip_address"]

    gateway_off = post(api, f"routers/{router['id']}/set-gateway/", external_network_id=None)
    assert (gateway_off.status_code, gateway_off.data["error"]["code"]) == (409, "router_has_floating_ips")
    assert post(api, f"floating-ips/{fip['id']}/disassociate/").data["port_id"] is None
    assert api.delete(f"/api/v1/floating-ips/{fip['id']}/").status_code == 204
    assert not FloatingIP.objects.exists()
    assert SubnetAddress.objects.get(address="203.0.113.3").port_id is None
    assert quotas.usage_of(project)["floating_ips"][1] == 0


def test_a_fixed_ip_no_router_reaches_gets_no_floating_ip(api, router, private, public):
    port = post(api, "ports/", network_id=str(private.pk)).data
    fip = post(api, "floating-ips/", network_id=str(public.pk)).data
    response = post(api, f"floating-ips/{fip['id']}/associate/", port_id=port["id"])
    assert (response.status_code, response.data["error"]["code"]) == (409, "external_network_unreachable")


def test_a_fixed_ip_has_at_most_one_floating_ip(api, router, private, public):
    post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(private.subnets.get().pk))
    port = post(api, "ports/", network_id=str(private.pk)).data
    fips = [post(api, "floating-ips/", network_id=str(public.pk)).data for _ in range(2)]
    assert post(api, f"floating-ips/{fips[0]['id']}/associate/", port_id=port["id"]).status_code == 200
    response = post(api, f"floating-ips/{fips[1]['id']}/associate/", port_id=port["id"])
    assert (response.status_code, response.data["error"]["code"]) == (409, "fixed_ip_has_floating_ip")


def test_deleting_a_port_disassociates_its_floating_ip(api, router, private, public):
    post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(private.subnets.get().pk))
    port = post(api, "ports/", network_id=str(private.pk)).data
    fip = post(api, "floating-ips/", network_id=str(public.pk)).data
    post(api, f"floating-ips/{fip['id']}/associate/", port_id=port["id"])
    assert api.delete(f"/api/v1/ports/{port['id']}/").status_code == 204
    assert api.get(f"/api/v1/floating-ips/{fip['id']}/").data["port_id"] is None


def test_a_public_pool_with_floating_ips_is_not_deleted(api, admin_api, public):
    post(api, "floating-ips/", network_id=str(public.pk))
    response = admin_api.delete(f"/api/v1/public-pools/{public.pk}/")
    assert (response.status_code, response.data["error"]["code"]) == (409, "network_in_use")
