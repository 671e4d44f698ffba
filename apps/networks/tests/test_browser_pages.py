"""The networks pages in Chromium: a tenant's networks, security groups and floating IPs, an instance's
NICs, and the admin portal's VLAN pools, public pools, hosts' networks and network audit; at a laptop's
and at a phone's width."""

import pytest
from playwright.sync_api import expect

from apps.compute.tests.factories import InstanceFactory
from apps.core import policy
from apps.identity.tests.factories import grant
from apps.infrastructure.models import HostAuditFinding
from apps.infrastructure.tests.factories import ZoneFactory
from apps.networks.models import FloatingIP, Network, SecurityGroupRule, Subnet
from apps.networks.services import floating_ips, routers
from apps.portal.tests import browser

from .factories import SYSTEM, network_node, nics_for, project_network, public_pool, vlan_pool

pytestmark = pytest.mark.browser


@pytest.fixture
def zone(root):
    zone = ZoneFactory(name="zone-a")
    network_node(zone, name="node-1")
    vlan_pool(zone)
    return zone


def test_a_tenant_makes_a_network_and_a_subnet_and_a_refusal_lands_on_its_field(
    browsing, member, project, zone
):
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/")
    page.get_by_role("link", name="Networks", exact=True).click()
    expect(page.get_by_role("heading", name="Networks", exact=True)).to_be_visible()

    page.get_by_label("Name").fill("backend")
    page.get_by_label("Zone").select_option(label="zone-a")
    page.get_by_role("button", name="Create network").click()
    expect(page.locator(".messages")).to_contain_text("Network backend created")
    row = page.locator('[data-network="backend"]')
    expect(row).to_contain_text("isolated (VLAN)")
    network = Network.objects.get(name="backend")
    prefix = f"subnet-{network.pk.hex[:8]}"

    page.locator(f"#id_{prefix}-cidr").fill("10.0.0.0/33")
    page.get_by_role("button", name="Add subnet").click()
    cidr = page.locator(f"#id_{prefix}-cidr")
    expect(cidr).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#id_{prefix}-cidr_error")).to_contain_text("not a network")

    cidr.fill("10.0.0.0/24")
    page.locator(f"#id_{prefix}-dns_nameservers").fill("9.9.9.9")
    page.get_by_role("button", name="Add subnet").click()
    expect(page.locator(".messages")).to_contain_text("Subnet 10.0.0.0/24 added to backend.")
    expect(page.locator('[data-subnet="10.0.0.0/24"]')).to_contain_text("gateway 10.0.0.1")
    assert list(Subnet.objects.values_list("cidr", "dns_nameservers")) == [("10.0.0.0/24", ["9.9.9.9"])]


def test_a_tenant_edits_a_security_groups_rules(browsing, member, project):
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/security-groups/")
    expect(page.locator('[data-group="default"]')).to_contain_text("default")

    page.get_by_label("Name").fill("web")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("heading", name="Security group web")).to_be_visible()

    page.get_by_label("Direction").select_option("ingress")
    page.get_by_label("Protocol").select_option("tcp")
    page.get_by_label("First port").fill("80")
    page.get_by_label("Last port").fill("70")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#id_port_min_error")).to_be_visible()

    page.get_by_label("Last port").fill("")
    page.get_by_label("First port").fill("443")
    page.get_by_label("From or to (CIDR)").fill("203.0.113.0/24")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator(".messages")).to_contain_text("Rule added to web.")
    expect(page.locator("tbody")).to_contain_text("203.0.113.0/24")
    rule = SecurityGroupRule.objects.get(security_group__name="web")
    assert (rule.protocol, rule.port_min, rule.port_max, rule.remote_cidr) == (
        "tcp",
        443,
        443,
        "203.0.113.0/24",
    )

    delete = page.get_by_role("link", name="Delete rule 1")
    delete.click()
    dialog = page.get_by_role(
        "dialog", name="Remove the rule 'ingress IPv4 tcp 443 from 203.0.113.0/24' from web?"
    )
    expect(dialog).to_contain_text("No port is in web now")
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    browser.screenshot(page, "confirm-rule-delete")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()
    assert SecurityGroupRule.objects.filter(security_group__name="web").exists()

    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Remove the rule").click()
    expect(page.locator(".messages")).to_contain_text("Rule removed from web.")
    assert not SecurityGroupRule.objects.filter(security_group__name="web").exists()


def _instance_on_a_network(project, zone, name="web-1"):
    network = project_network(project, zone, cidr="192.168.7.0/24", name="private")
    node = network.dhcp_host
    instance = InstanceFactory(project=project, name=name, host=node, zone=zone)
    [port] = nics_for(project, [{"network_id": network.pk}], instance, node)
    return network, instance, port


def test_a_tenant_allocates_a_floating_ip_and_associates_it_with_an_instance_nic_shown_on_its_pages(
    browsing, member, project, zone
):
    network, _, port = _instance_on_a_network(project, zone)
    public = public_pool(zone)
    router = routers.create_router(SYSTEM, project, name="edge", zone=zone, external_network_id=public.pk)
    routers.add_interface(SYSTEM, router, subnet_id=network.subnets.get().pk)
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/floating-ips/")

    page.get_by_label("Public pool").select_option(label="public")
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".messages")).to_contain_text("allocated")
    floating = FloatingIP.objects.get()
    address = floating.floating_ip_address
    row = page.locator(f'[data-floating="{address}"]')
    row.get_by_label("Instance NIC").select_option(label="web-1: 192.168.7.3 on private")
    row.get_by_role("button", name=f"Associate {address}").click()
    expect(page.locator(".messages")).to_contain_text(f"Floating IP {address} now reaches 192.168.7.3.")
    expect(page.locator(f'[data-floating="{address}"]')).to_contain_text("web-1 192.168.7.3")

    page.goto(f"/dashboard/projects/{project.pk}/instances/")
    expect(page.locator("td.addresses")).to_contain_text(f"192.168.7.3 {address}")
    page.get_by_role("link", name="web-1").click()
    nic = page.locator(f'[data-nic="{port.pk}"]')
    expect(nic).to_contain_text("private")
    expect(nic).to_contain_text("192.168.7.3")
    expect(nic).to_contain_text(f"{address} (floating)")
    expect(nic).to_contain_text(port.mac_address)

    page.goto(f"/dashboard/projects/{project.pk}/floating-ips/")
    page.get_by_role("link", name=f"Release {address}").click()
    dialog = page.get_by_role("dialog", name=f"Release floating IP {address}?")
    expect(dialog).to_contain_text(
        f"It reaches web-1 (192.168.7.3) now: that NIC is no longer reachable at {address}."
    )
    dialog.get_by_role("button", name=f"Release {address}").click()
    expect(page.locator(".messages")).to_contain_text(f"Floating IP {address} released.")
    assert not FloatingIP.objects.exists()


def test_without_javascript_deleting_a_network_is_a_page_of_its_own_and_a_refusal_comes_back_on_the_list(
    browsing, member, project, zone
):
    network, _, _ = _instance_on_a_network(project, zone)
    page = browsing.signed_in_page(member, javascript=False)
    page.goto(f"/dashboard/projects/{project.pk}/networks/")
    page.get_by_role("link", name="Delete network private").click()
    assert page.url.endswith(f"/networks/{network.pk}/delete/")
    expect(page.get_by_role("heading", name="Delete network private?")).to_be_visible()
    expect(page.locator("#confirmation")).to_contain_text("It still has 1 instance NIC on it")

    page.get_by_role("button", name="Delete network private").click()
    assert page.url.endswith(f"/dashboard/projects/{project.pk}/networks/")
    expect(page.locator(".messages")).to_contain_text("Network private still has ports.")
    assert Network.objects.filter(pk=network.pk).exists()


def test_the_launch_form_offers_the_projects_networks_and_a_config_drive(browsing, member, project, zone):
    project_network(project, zone, name="private")
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/instances/launch/")

    expect(page.get_by_label("private")).to_be_visible()
    expect(page.get_by_label("Config drive")).not_to_be_checked()


def test_a_cloud_admin_manages_pools_a_hosts_physical_networks_and_sees_its_network_state_and_audit(
    browsing, cloud_admin, zone
):
    node = network_node(zone, name="node-2")
    HostAuditFinding.objects.create(
        host=node,
        kind=HostAuditFinding.NETWORK,
        subject="bridge:cmb-0123456789a",
        details={
            "kind": "bridge",
            "name": "cmb-0123456789a",
            "problem": "missing",
            "detail": "",
            "repaired": False,
        },
        first_seen="2026-01-01T00:00:00Z",
        last_seen="2026-01-01T00:00:00Z",
    )
    page = browsing.signed_in_page(cloud_admin)
    page.goto("/admin-portal/")
    page.get_by_role("link", name="VLAN pools").click()
    page.get_by_label("Physical network").fill("physnet2")
    page.get_by_label("First VLAN id").fill("300")
    page.get_by_label("Last VLAN id").fill("399")
    page.get_by_role("button", name="Add pool").click()
    expect(page.locator('[data-pool="300-399"]')).to_contain_text("physnet2")

    page.get_by_role("link", name="Public pools").click()
    page.get_by_label("Name").fill("internet")
    page.get_by_label("Physical network").fill("public2")
    page.get_by_label("Range (CIDR)").fill("198.51.100.0/24")
    page.get_by_label("Gateway", exact=True).fill("198.51.100.1")
    page.get_by_role("button", name="Create pool").click()
    expect(page.locator('[data-pool="internet"]')).to_contain_text("198.51.100.0/24")

    page.get_by_role("link", name="Host networks").click()
    page.locator('[data-host="node-2"]').get_by_role("link", name="node-2").click()
    expect(page.get_by_role("heading", name="Network of node-2")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("cmb-0123456789a")
    page.get_by_role("textbox", name="Physical networks").fill("physnet1=eth1 public=eth2 public2=eth3")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("The network configuration of node-2 is saved.")
    assert dict(node.physical_networks.values_list("physical_network", "interface"))["public2"] == "eth3"

    page.get_by_role("link", name="Network audit").click()
    expect(page.locator('[data-finding="bridge cmb-0123456789a"]')).to_contain_text("missing")


def test_the_networks_pages_fit_a_phone(browsing, cloud_admin, project, zone):
    grant(cloud_admin, policy.PROJECT_MEMBER, project)
    network, instance, _ = _instance_on_a_network(project, zone, name="an-instance-with-a-rather-long-name")
    floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public_pool(zone).pk)
    group_url = f"/dashboard/projects/{project.pk}/security-groups/"
    page = browsing.new_page(browser.PHONE)
    browser.sign_in(page, cloud_admin.username)
    default = project.security_groups.get(is_default=True)
    base = f"/dashboard/projects/{project.pk}"
    for name, url in {
        "networks": f"{base}/networks/",
        "security-groups": group_url,
        "security-group": f"{group_url}{default.pk}/",
        "floating-ips": f"{base}/floating-ips/",
        "instances": f"{base}/instances/",
        "instance-nics": f"{base}/instances/{instance.pk}/",
        "launch": f"{base}/instances/launch/",
        "admin-vlan-pools": "/admin-portal/networks/vlan-pools/",
        "admin-public-pools": "/admin-portal/networks/public-pools/",
        "admin-host-networks": "/admin-portal/networks/hosts/",
        "admin-host-network": f"/admin-portal/networks/hosts/{network.dhcp_host_id}/",
        "admin-network-audit": "/admin-portal/networks/audit/",
    }.items():
        for viewport in (browser.LAPTOP, browser.PHONE):
            page.set_viewport_size(viewport)
            assert page.goto(url).status == 200, url
            sticking_out = browser.overflowing(page)
            assert not sticking_out, f"{name} at {viewport['width']} px: {sticking_out}"
            browser.screenshot(page, f"networks-{name}")
