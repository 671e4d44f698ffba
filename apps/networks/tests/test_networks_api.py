"""Networks through the API: tenants make VLAN networks from the pools, admins the rest, and share them."""

import pytest

from apps.conftest import login
from apps.core import policy
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.networks.models import Network, Port
from apps.networks.services.host_networks import set_host_network
from apps.quotas import services as quotas

from .factories import SYSTEM, flat_network, network_node, project_network, vlan_pool


def create(api, **body):
    return api.post("/api/v1/networks/", body, format="json")


def test_a_member_makes_a_vlan_network_whose_vlan_and_dhcp_server_are_placed(api, project, zone, node, pool):
    response = create(api, name="backend", zone_id=str(zone.pk))
    assert response.status_code == 201, response.content
    body = response.data
    assert (body["network_type"], body["project_id"], body["shared"]) == ("vlan", str(project.pk), False)
    assert "vlan_id" not in body
    assert "physical_network" not in body
    assert "dhcp_host_id" not in body
    network = Network.objects.get(pk=body["id"])
    assert pool.vlan_min <= network.vlan_id <= pool.vlan_max
    assert network.dhcp_host == node
    assert Port.objects.get(network=network).device_owner == Port.DHCP
    assert quotas.usage_of(project)["networks"][1] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"network_type": "flat"},
        {"physical_network": "physnet1"},
        {"vlan_id": 300},
        {"external": True},
        {"shared": True},
    ],
)
def test_a_member_may_not_choose_what_only_an_admin_chooses(api, zone, node, pool, body):
    response = create(api, name="mine", zone_id=str(zone.pk), **body)
    assert (response.status_code, response.data["error"]["code"]) == (403, "permission_denied")
    assert not Network.objects.exists()


def test_a_zone_without_a_network_node_refuses_networks_that_need_dhcp(api, zone, pool):
    response = create(api, name="backend", zone_id=str(zone.pk))
    assert (response.status_code, response.data["error"]["code"]) == (409, "no_network_node")
    assert not Network.objects.exists()


def test_exhausted_vlan_pools_are_a_409(api, zone, node):
    vlan_pool(zone, 500, 500)
    assert create(api, name="one", zone_id=str(zone.pk)).status_code == 201
    response = create(api, name="two", zone_id=str(zone.pk))
    assert (response.status_code, response.data["error"]["code"]) == (409, "vlan_ids_exhausted")


def test_an_admin_shares_a_flat_network_with_a_domain_and_its_projects_see_it(admin_api, api, project, zone):
    other = ProjectFactory(domain=DomainFactory())
    response = create(
        admin_api,
        name="provider",
        zone_id=str(zone.pk),
        shared=True,
        network_type="flat",
        physical_network="physnet1",
        shared_with={"domain_ids": [str(project.domain_id)]},
    )
    assert response.status_code == 201, response.content
    assert response.data["shared_with"] == {"domain_ids": [str(project.domain_id)], "project_ids": []}
    assert [n["name"] for n in api.get("/api/v1/networks/").data["results"]] == ["provider"]
    network_id = response.data["id"]
    assert api.get(f"/api/v1/networks/{network_id}/").status_code == 200
    assert api.patch(f"/api/v1/networks/{network_id}/", {"name": "mine"}, format="json").status_code == 403
    outsider = UserFactory(domain=other.domain)
    grant(outsider, policy.PROJECT_MEMBER, other)
    assert login(outsider, project_id=other.pk).get(f"/api/v1/networks/{network_id}/").status_code == 404


def test_a_shared_network_is_invisible_to_projects_it_is_not_shared_with(api, zone):
    network = flat_network(zone, shared_with=[ProjectFactory()])
    assert api.get("/api/v1/networks/").data["count"] == 0
    assert api.get(f"/api/v1/networks/{network.pk}/").status_code == 404


def test_a_second_flat_network_on_one_physical_network_is_a_409(admin_api, zone):
    flat_network(zone)
    response = create(
        admin_api,
        name="again",
        zone_id=str(zone.pk),
        shared=True,
        network_type="flat",
        physical_network="physnet1",
    )
    assert (response.status_code, response.data["error"]["code"]) == (409, "physical_network_in_use")


def test_a_network_with_ports_is_not_deleted_and_without_them_goes_with_its_subnets(
    api, project, zone, node, pool
):
    network = project_network(project, zone)
    port = api.post("/api/v1/ports/", {"network_id": str(network.pk)}, format="json").data
    response = api.delete(f"/api/v1/networks/{network.pk}/")
    assert (response.status_code, response.data["error"]["code"]) == (409, "network_in_use")
    assert api.delete(f"/api/v1/ports/{port['id']}/").status_code == 204
    assert api.delete(f"/api/v1/networks/{network.pk}/").status_code == 204
    assert not Network.objects.exists()
    assert not Port.objects.exists()
    usage = quotas.usage_of(project)
    assert (usage["networks"][1], usage["subnets"][1], usage["ports"][1]) == (0, 0, 0)


def test_the_networks_quota_is_claimed_and_refuses_beyond_the_limit(api, project, zone, node, pool):
    quotas.set_limit(SYSTEM, project, "networks", 1)
    assert create(api, name="one", zone_id=str(zone.pk)).status_code == 201
    response = create(api, name="two", zone_id=str(zone.pk))
    assert (response.status_code, response.data["error"]["code"]) == (409, "quota_exceeded")
    assert Network.objects.count() == 1


def test_a_network_node_without_the_physical_network_is_not_chosen(api, zone, pool):
    node = network_node(zone)
    set_host_network(SYSTEM, node, physical_networks={"other": "eth3"})
    response = create(api, name="backend", zone_id=str(zone.pk))
    assert (response.status_code, response.data["error"]["code"]) == (409, "no_network_node")


def test_a_project_network_is_neither_shared_nor_a_public_pool(admin_api, project, zone):
    for extra in ({"external": True}, {"shared_with": {"project_ids": [str(project.pk)]}}):
        response = create(
            admin_api,
            name="odd",
            zone_id=str(zone.pk),
            project_id=str(project.pk),
            network_type="flat",
            physical_network="physnet1",
            **extra,
        )
        assert (response.status_code, response.data["error"]["code"]) == (400, "network_not_shared")
