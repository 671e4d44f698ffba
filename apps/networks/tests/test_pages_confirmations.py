"""The networks pages' destructive actions ask first: opening their address is a confirmation that names
what goes and what would refuse it, and changes nothing; the confirming POST performs through the service;
a refusal comes back as a message on the page with nothing changed; those who may not are refused before
any confirmation; and no POST is taken without its CSRF token."""

import uuid
from types import SimpleNamespace

import pytest
from django.test import Client

from apps.compute.tests.factories import InstanceFactory
from apps.identity.tests.factories import ProjectFactory
from apps.networks.models import FloatingIP, Network, SecurityGroup, SecurityGroupRule, Subnet, VlanPool
from apps.networks.services import floating_ips, networks, ports, routers, security_groups
from apps.portal.tests.conftest import signed_in
from apps.quotas.models import QuotaUsage

from .factories import SYSTEM, flat_network, nics_for, project_network, public_pool

pytestmark = pytest.mark.usefixtures("node", "pool")


@pytest.fixture
def things(project, zone, pool):
    """A project with a network in use by an instance and its floating IP, and one of each to delete."""
    backend = project_network(project, zone, cidr="192.168.7.0/24", name="backend")
    instance = InstanceFactory(project=project, name="web-1", host=backend.dhcp_host, zone=zone)
    [nic] = nics_for(project, [{"network_id": backend.pk}], instance, backend.dhcp_host)
    public = public_pool(zone, name="internet")
    router = routers.create_router(SYSTEM, project, name="edge", zone=zone, external_network_id=public.pk)
    routers.add_interface(SYSTEM, router, subnet_id=backend.subnets.get().pk)
    reaching = floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk)
    reaching = floating_ips.associate(SYSTEM, reaching, port_id=nic.pk)
    web = security_groups.create_security_group(SYSTEM, project, name="web")
    used = security_groups.create_security_group(SYSTEM, project, name="used")
    ports.create_port(SYSTEM, project, network_id=backend.pk, name="spare", security_group_ids=[used.pk])
    # A rule of `used` that lets the members of `web` in: it goes with `web`.
    security_groups.create_rule(
        SYSTEM, used, direction="ingress", protocol="tcp", port_min=22, remote_group_id=web.pk
    )
    return SimpleNamespace(
        project=project,
        instance=instance,
        nic=nic,
        backend=backend,
        spare=networks.create_network(SYSTEM, name="spare", zone=zone, project=project),
        dropped=project_network(project, zone, cidr="192.168.8.0/24", name="dropped").subnets.get(),
        web=web,
        used=used,
        https=security_groups.create_rule(
            SYSTEM, web, direction="ingress", protocol="tcp", port_min=443, remote_cidr="203.0.113.0/24"
        ),
        reaching=reaching,
        free=floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk),
        public=public,
        idle_pool=public_pool(zone, cidr="198.51.100.0/24", name="idle", network_type="vlan", vlan_id=3000),
        vlans=pool,
    )


def dashboard(t, rest):
    return f"/dashboard/projects/{t.project.pk}/{rest}"


def groups(t):
    return dashboard(t, "security-groups/")


# name: (address, who asks, words the confirmation says, the object it acts on, where it goes back to)
ACTIONS = {
    "network": (
        lambda t: dashboard(t, f"networks/{t.spare.pk}/delete/"),
        "member",
        ("Delete network spare?", "Network spare is removed for good."),
        lambda t: t.spare,
        lambda t: dashboard(t, "networks/"),
    ),
    "subnet": (
        lambda t: dashboard(t, f"subnets/{t.dropped.pk}/delete/"),
        "member",
        ("Delete subnet 192.168.8.0/24 of dropped?", "no address is given from it any more"),
        lambda t: t.dropped,
        lambda t: dashboard(t, "networks/"),
    ),
    "security group": (
        lambda t: f"{groups(t)}{t.web.pk}/delete/",
        "member",
        ("Delete security group web?", "is deleted with its 1 rule.", "go with it (1 rule, of used)"),
        lambda t: t.web,
        lambda t: f"{groups(t)}{t.web.pk}/",
    ),
    "rule": (
        lambda t: f"{groups(t)}{t.web.pk}/rules/{t.https.pk}/delete/",
        "member",
        (
            "Remove the rule &#x27;ingress IPv4 tcp 443 from 203.0.113.0/24&#x27; from web?",
            "No port is in web now",
        ),
        lambda t: t.https,
        lambda t: f"{groups(t)}{t.web.pk}/",
    ),
    "release": (
        lambda t: dashboard(t, f"floating-ips/{t.reaching.pk}/release/"),
        "member",
        ("Release floating IP 203.0.113.", "It reaches web-1 (192.168.7.3) now"),
        lambda t: t.reaching,
        lambda t: dashboard(t, "floating-ips/"),
    ),
    "disassociate": (
        lambda t: dashboard(t, f"floating-ips/{t.reaching.pk}/disassociate/"),
        "member",
        ("from web-1 (192.168.7.3)?", "The project keeps the address"),
        lambda t: t.reaching,
        lambda t: dashboard(t, "floating-ips/"),
    ),
    "vlan pool": (
        lambda t: f"/admin-portal/networks/vlan-pools/{t.vlans.pk}/delete/",
        "cloud_admin",
        ("Delete VLAN pool physnet1 100-199 of zone zone-a?", "It is the last VLAN pool of zone zone-a"),
        lambda t: t.vlans,
        lambda t: "/admin-portal/networks/vlan-pools/",
    ),
    "public pool": (
        lambda t: f"/admin-portal/networks/public-pools/{t.idle_pool.pk}/delete/",
        "cloud_admin",
        ("Delete public pool idle?", "198.51.100.0/24"),
        lambda t: t.idle_pool,
        lambda t: "/admin-portal/networks/public-pools/",
    ),
}


def client_of(request, who):
    return signed_in(request.getfixturevalue(who))


def snapshot(obj):
    return type(obj)._base_manager.filter(pk=obj.pk).values().first()


@pytest.mark.parametrize("name", ACTIONS)
def test_opening_a_destructive_actions_address_shows_its_confirmation_and_changes_nothing(
    request, things, name
):
    address, who, says, acted_on, back = ACTIONS[name]
    before = snapshot(acted_on(things))

    response = client_of(request, who).get(address(things))

    page = response.content.decode()
    assert response.status_code == 200
    for words in says:
        assert words in page
    assert 'id="confirmation"' in page
    assert f'<form method="post" action="{address(things)}"' in page
    assert f'<a href="{back(things)}" class="button secondary" data-cancel' in page
    assert snapshot(acted_on(things)) == before


GONE = {
    "network": ("Network spare deleted.", lambda t: not Network.objects.filter(pk=t.spare.pk).exists()),
    "subnet": (
        "Subnet 192.168.8.0/24 deleted.",
        lambda t: not Subnet.objects.filter(pk=t.dropped.pk).exists(),
    ),
    "rule": (
        "Rule removed from web.",
        lambda t: not SecurityGroupRule.objects.filter(pk=t.https.pk).exists(),
    ),
    "release": ("released.", lambda t: not FloatingIP.objects.filter(pk=t.reaching.pk).exists()),
    "disassociate": (
        "disassociated.",
        lambda t: FloatingIP.objects.get(pk=t.reaching.pk).fixed_port_id is None,
    ),
    "vlan pool": ("VLAN pool physnet1 100-199 deleted.", lambda t: not VlanPool.objects.exists()),
    "public pool": (
        "Public pool idle deleted.",
        lambda t: not Network.objects.filter(pk=t.idle_pool.pk).exists(),
    ),
}


@pytest.mark.parametrize("name", GONE)
def test_confirming_performs_the_action_and_says_so_on_the_page_it_goes_back_to(request, things, name):
    address, who, _, _, back = ACTIONS[name]
    said, done = GONE[name]
    client = client_of(request, who)

    response = client.post(address(things), follow=True)

    assert response.redirect_chain == [(back(things), 302)]
    assert said in response.content.decode()
    assert done(things)


def test_a_security_group_deleted_after_confirming_goes_with_its_rules_back_to_the_list(member, things):
    response = signed_in(member).post(f"{groups(things)}{things.web.pk}/delete/", follow=True)

    assert response.redirect_chain == [(groups(things), 302)]
    assert "Security group web deleted." in response.content.decode()
    assert not SecurityGroup.objects.filter(pk=things.web.pk).exists()
    assert not SecurityGroupRule.objects.filter(pk=things.https.pk).exists()
    assert not SecurityGroupRule.objects.filter(remote_group=things.web.pk).exists()
    assert SecurityGroupRule.objects.filter(security_group=things.used).count() == 0


# (address, what the confirmation says would refuse it, what the service's refusal says, the object kept)
REFUSED = {
    "network with ports": (
        lambda t: dashboard(t, f"networks/{t.backend.pk}/delete/"),
        "member",
        "It still has 1 instance NIC, 1 port not attached to an instance and 1 router interface on it",
        "Network backend still has ports.",
        lambda t: t.backend,
    ),
    "subnet with addresses": (
        lambda t: dashboard(t, f"subnets/{t.backend.subnets.get().pk}/delete/"),
        "member",
        "Its addresses are still given to 1 instance NIC, 1 port not attached to an instance and 1 router"
        " interface:",
        "still has addresses given to ports.",
        lambda t: t.backend.subnets.get(),
    ),
    "security group in use": (
        lambda t: f"{groups(t)}{t.used.pk}/delete/",
        "member",
        "It is still used by 1 port: the deletion is refused until they leave it.",
        "Security group used is used by ports.",
        lambda t: t.used,
    ),
    "default security group": (
        lambda t: f"{groups(t)}{t.project.security_groups.get(is_default=True).pk}/delete/",
        "member",
        "It is the project&#x27;s default group: it cannot be deleted, only its rules changed.",
        "A project&#x27;s default security group cannot be deleted.",
        lambda t: t.project.security_groups.get(is_default=True),
    ),
    "public pool in use": (
        lambda t: f"/admin-portal/networks/public-pools/{t.public.pk}/delete/",
        "cloud_admin",
        "Its addresses are still held by 1 router gateway and 2 floating IPs: the deletion is refused",
        "Network internet still has ports.",
        lambda t: t.public,
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_refusal_is_said_on_the_confirmation_and_after_it_and_nothing_changes(request, things, name):
    address, who, foretold, refusal, kept = REFUSED[name]
    client = client_of(request, who)
    before = snapshot(kept(things))

    asked = client.get(address(things)).content.decode()
    answered = client.post(address(things), follow=True)

    assert foretold in asked
    assert len(answered.redirect_chain) == 1
    assert refusal in answered.content.decode()
    assert 'class="messages' in answered.content.decode()
    assert snapshot(kept(things)) == before


@pytest.mark.parametrize("name", [n for n, action in ACTIONS.items() if action[1] == "member"])
def test_a_project_reader_is_refused_before_any_confirmation_and_nothing_goes(reader, things, name):
    address, _, says, acted_on, _ = ACTIONS[name]
    client = signed_in(reader)
    before = snapshot(acted_on(things))

    asked, sent = client.get(address(things)), client.post(address(things))

    assert asked.status_code == sent.status_code == 403
    assert 'id="confirmation"' not in asked.content.decode()
    assert says[0] not in asked.content.decode()
    assert snapshot(acted_on(things)) == before


@pytest.mark.parametrize("name", ["vlan pool", "public pool"])
def test_a_tenant_finds_no_admin_confirmation_and_nothing_goes(member, things, name):
    address, _, says, acted_on, _ = ACTIONS[name]
    client = signed_in(member)

    asked, sent = client.get(address(things)), client.post(address(things))

    assert asked.status_code == sent.status_code
    assert asked.status_code in (403, 404)
    assert says[0] not in asked.content.decode()
    assert snapshot(acted_on(things)) is not None


@pytest.mark.parametrize("name", ACTIONS)
def test_a_confirming_post_without_its_csrf_token_is_refused_and_nothing_goes(request, things, name):
    address, who, _, acted_on, _ = ACTIONS[name]
    client = Client(enforce_csrf_checks=True)
    client.force_login(request.getfixturevalue(who))
    before = snapshot(acted_on(things))

    response = client.post(address(things))

    assert response.status_code == 403
    assert snapshot(acted_on(things)) == before


def test_removing_a_rule_of_a_group_in_use_says_how_many_ports_stop_allowing_it(member, things):
    rule = SecurityGroupRule.objects.get(security_group=things.used)
    address = f"{groups(things)}{things.used.pk}/rules/{rule.pk}/delete/"

    page = signed_in(member).get(address).content.decode()

    assert "Remove the rule &#x27;ingress IPv4 tcp 22 from members of web&#x27; from used?" in page
    assert "The 1 port in used no longer accepts what only this rule allowed" in page


def test_a_floating_ip_that_reaches_nothing_has_no_disassociate_address(member, things):
    address = dashboard(things, f"floating-ips/{things.free.pk}/disassociate/")
    client = signed_in(member)

    assert client.get(address).status_code == client.post(address).status_code == 404
    assert client.get(dashboard(things, f"floating-ips/{uuid.uuid4()}/release/")).status_code == 404


def test_the_pages_link_to_the_confirmations_and_post_no_destructive_form(member, cloud_admin, things):
    tenant, admin = signed_in(member), signed_in(cloud_admin)
    pages = {
        dashboard(things, "networks/"): [
            dashboard(things, f"networks/{things.spare.pk}/delete/"),
            dashboard(things, f"subnets/{things.dropped.pk}/delete/"),
        ],
        f"{groups(things)}{things.web.pk}/": [
            f"{groups(things)}{things.web.pk}/delete/",
            f"{groups(things)}{things.web.pk}/rules/{things.https.pk}/delete/",
        ],
        dashboard(things, "floating-ips/"): [
            dashboard(things, f"floating-ips/{things.reaching.pk}/release/"),
            dashboard(things, f"floating-ips/{things.reaching.pk}/disassociate/"),
            dashboard(things, f"floating-ips/{things.free.pk}/release/"),
        ],
        "/admin-portal/networks/vlan-pools/": [
            f"/admin-portal/networks/vlan-pools/{things.vlans.pk}/delete/"
        ],
        "/admin-portal/networks/public-pools/": [
            f"/admin-portal/networks/public-pools/{things.idle_pool.pk}/delete/"
        ],
    }
    for page, confirmations in pages.items():
        html = (admin if page.startswith("/admin-portal/") else tenant).get(page).content.decode()
        for confirmation in confirmations:
            assert f'<a href="{confirmation}" class="button danger small" data-confirm' in html or (
                f'<a href="{confirmation}" class="button danger" data-confirm' in html
            ), (page, confirmation)
            assert f'action="{confirmation}"' not in html, (page, confirmation)
    floating = tenant.get(dashboard(things, "floating-ips/")).content.decode()
    assert f"floating-ips/{things.free.pk}/disassociate/" not in floating


def test_an_object_named_under_another_address_of_the_project_is_not_found(member, things, zone):
    """A rule under another group's address, a shared network the project only uses, a network of another
    project under this project's address: each is a 404, on the confirmation and on its POST."""
    other_project = ProjectFactory(domain=things.project.domain)
    elsewhere = project_network(other_project, zone, cidr="192.168.9.0/24", name="elsewhere")
    shared = flat_network(zone, cidr="10.60.0.0/24", name="shared", shared_with=[things.project])
    client = signed_in(member)

    for address in (
        f"{groups(things)}{things.used.pk}/rules/{things.https.pk}/delete/",
        dashboard(things, f"networks/{shared.pk}/delete/"),
        dashboard(things, f"networks/{elsewhere.pk}/delete/"),
        dashboard(things, f"subnets/{elsewhere.subnets.get().pk}/delete/"),
    ):
        assert client.get(address).status_code == client.post(address).status_code == 404, address
    assert SecurityGroupRule.objects.filter(pk=things.https.pk).exists()
    assert Network.objects.filter(pk__in=[shared.pk, elsewhere.pk]).count() == 2


def test_a_second_confirming_post_of_a_stale_page_is_not_found_and_releases_nothing_twice(member, things):
    address = dashboard(things, f"floating-ips/{things.free.pk}/release/")
    client = signed_in(member)
    used = QuotaUsage.objects.get(project=things.project, resource="floating_ips").used

    first, second = client.post(address), client.post(address)

    assert first.status_code == 302
    assert second.status_code == 404
    assert QuotaUsage.objects.get(project=things.project, resource="floating_ips").used == used - 1


def test_a_name_that_looks_like_markup_is_shown_as_text_on_its_confirmation(member, things):
    group = security_groups.create_security_group(
        SYSTEM, things.project, name='<img src=x onerror="alert(1)">'
    )

    page = signed_in(member).get(f"{groups(things)}{group.pk}/delete/").content.decode()

    assert "<img src=x" not in page
    assert "Delete security group &lt;img src=x onerror=&quot;alert(1)&quot;&gt;?" in page
