"""The admin portal's page of one host, through Django's client: what it shows, and its enable and maintenance
switches (apps/infrastructure/web/switches.py). What other apps add to it is tested in their tests."""

import re
import uuid

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core import policy
from apps.identity.models import Role, RoleAssignment, Rule
from apps.identity.tests.factories import UserFactory
from apps.infrastructure import capacity
from apps.infrastructure.models import Host

from .factories import HostFactory
from .test_pages import signed_in

pytestmark = pytest.mark.django_db
X = "\N{MULTIPLICATION SIGN}"


def page_of(client, host):
    return client.get(reverse("infrastructure:host-detail", args=[host.pk])).content.decode()


def switches(page):
    return re.findall(r'name="op" value="(\w+)"', page)


def flip(client, host, op):
    return client.post(reverse("infrastructure:host-action", args=[host.pk]), {"op": op}, follow=True)


def test_the_hosts_list_links_to_a_page_with_the_hosts_facts_and_allocation(cloud_admin):
    host = HostFactory(name="kvm-busy", hypervisor_version="7.2.0", ram_allocation_ratio=1.0)
    assert capacity.claim(host.pk, uuid.uuid4(), capacity.Amounts(vcpus=64, ram_mb=7936, disk_gb=50))
    admin = signed_in(cloud_admin)
    listing = admin.get("/admin-portal/hosts/").content.decode()
    assert f'href="{reverse("infrastructure:host-detail", args=[host.pk])}">kvm-busy</a>' in listing
    page = page_of(admin, host)
    assert "<h1>Host kvm-busy" in page
    assert host.zone.name in page
    assert "qemu 7.2.0" in page
    assert 'data-schedulable="true"' in page
    figures = re.findall(r'quota-figures">(.*?)</span>', page)
    assert figures[1] == f"7936 of 15872 MB allocated (50%) · 16384 MB less 512 reserved {X} 1"
    allocation_card = page.split('id="capacity-title"')[1].split("</section>")[0]
    assert re.findall(r'aria-valuenow="(\d+)"', allocation_card) == ["50", "50", "10"]


def test_a_cloud_admin_disables_and_enables_a_host_and_puts_it_in_and_out_of_maintenance(cloud_admin):
    host = HostFactory(name="kvm-1")
    admin = signed_in(cloud_admin)
    assert switches(page_of(admin, host)) == ["disable", "maintenance_on"]
    response = flip(admin, host, "disable")
    assert "Host kvm-1 is disabled: no new instances are placed on it" in response.content.decode()
    response = flip(admin, host, "maintenance_on")
    page = response.content.decode()
    assert "Host kvm-1 is in maintenance" in page
    assert "not placed here: disabled, in maintenance" in page
    assert switches(page) == ["enable", "maintenance_off"]
    host.refresh_from_db()
    assert (host.enabled, host.maintenance, host.schedulable) == (False, True, False)
    assert AuditEvent.objects.filter(action="infrastructure.host.update", outcome="success").count() == 2
    flip(admin, host, "enable")
    flip(admin, host, "maintenance_off")
    host.refresh_from_db()
    assert (host.enabled, host.maintenance) == (True, False)
    assert flip(admin, host, "evacuate").status_code == 400


def test_an_operator_who_may_only_read_sees_the_host_without_switches_and_cannot_flip_them(root):
    # A custom role a cloud could give its operations desk: every read, nothing else.
    watcher = Role.objects.create(name="operations-desk")
    Rule.objects.create(role=watcher, action=f"@{policy.READ}")
    Rule.objects.create(role=watcher, action="identity.user.read")
    reader = UserFactory(domain=root)
    RoleAssignment.objects.create(user=reader, role=watcher, domain=root)
    host = HostFactory(name="kvm-1", state=Host.DOWN)
    client = signed_in(reader)
    page = page_of(client, host)
    assert "not placed here: down" in page
    assert switches(page) == []
    assert flip(client, host, "disable").status_code == 403
    host.refresh_from_db()
    assert host.enabled
