"""The admin portal's hosts page and overview cards, through Django's client."""

import re
import uuid

import pytest
from django.test import Client

from apps.core import policy
from apps.identity.tests.factories import DomainFactory, UserFactory, grant
from apps.infrastructure import capacity
from apps.infrastructure.models import Host

from .factories import HostFactory

pytestmark = pytest.mark.django_db
X = "\N{MULTIPLICATION SIGN}"


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def bars(page):
    """{resource: (allocated percent, figures)} of a host's page."""
    return {
        name: (int(percent), figures.strip())
        for name, figures, percent in re.findall(
            r'quota-name">(\w+)</span>\s*<span class="quota-figures">(.*?)</span>.*?aria-valuenow="(\d+)"',
            page,
            re.S,
        )
    }


def compact_bars(page, host):
    """{resource: (allocated percent, what the bar says)} of one host's row in the hosts list."""
    row = re.search(rf'data-host="{re.escape(host)}">(.*?)</tr>', page, re.S).group(1)
    return {
        name: (int(percent), said)
        for name, said, percent in re.findall(
            r'usage-label">(\w+) \d+%</span>\s*<span class="usage-bar" role="progressbar"'
            r' aria-label="([^"]*)"[^>]*aria-valuenow="(\d+)"',
            row,
        )
    }


def test_hosts_show_allocation_against_their_ratios_and_reserve(cloud_admin):
    # 8 CPUs x 16.0; (16384 - 512 MB) x 1.5; 500 GB x 1.0, with the RAM ratio overridden on the second host.
    busy = HostFactory(name="kvm-busy")
    down = HostFactory(name="kvm-down", state=Host.DOWN, ram_allocation_ratio=1.0)
    assert capacity.claim(busy.pk, uuid.uuid4(), capacity.Amounts(vcpus=64, ram_mb=23808, disk_gb=50))
    client = signed_in(cloud_admin)
    page = client.get("/admin-portal/hosts/").content.decode()
    assert compact_bars(page, "kvm-busy") == {
        "vCPUs": (50, "vCPUs allocated on kvm-busy: 64 of 128"),
        "RAM": (100, "RAM allocated on kvm-busy: 23808 of 23808 MB"),
        "Disk": (10, "Disk allocated on kvm-busy: 50 of 500 GB"),
    }
    assert bars(client.get(f"/admin-portal/hosts/{busy.pk}/").content.decode()) == {
        "vCPUs": (50, f"64 of 128 allocated (50%) · 8 {X} 16"),
        "RAM": (100, f"23808 of 23808 MB allocated (100%) · 16384 MB less 512 reserved {X} 1.5"),
        "Disk": (10, f"50 of 500 GB allocated (10%) · 500 GB {X} 1"),
    }
    assert bars(client.get(f"/admin-portal/hosts/{down.pk}/").content.decode())["RAM"] == (
        0,
        f"0 of 15872 MB allocated (0%) · 16384 MB less 512 reserved {X} 1",
    )
    down_only = signed_in(cloud_admin).get("/admin-portal/hosts/?state=down").content.decode()
    assert "kvm-down" in down_only
    assert "kvm-busy" not in down_only


def test_the_overview_counts_hosts_up_and_down_and_the_capacity_in_use(cloud_admin):
    HostFactory(name="kvm-1")
    HostFactory(name="kvm-2", state=Host.DOWN)
    HostFactory(name="kvm-3", maintenance=True)
    page = signed_in(cloud_admin).get("/admin-portal/").content.decode()
    assert re.search(r"Up</\w+>\s*<\w+[^>]*>2<", page)
    assert re.search(r"Down</\w+>\s*<\w+[^>]*>1<", page)
    assert "vCPUs allocated" in page
    assert "/admin-portal/hosts/" in page


def test_a_domain_admin_sees_no_hosts_and_a_tenant_no_admin_portal(root):
    domain = DomainFactory()
    admin = UserFactory(domain=domain)
    grant(admin, policy.DOMAIN_ADMIN, domain)
    HostFactory(name="kvm-secret")
    overview = signed_in(admin).get("/admin-portal/").content.decode()
    assert "/admin-portal/hosts/" not in overview
    assert "kvm-secret" not in signed_in(admin).get("/admin-portal/hosts/").content.decode()
    member = UserFactory(domain=domain)
    assert signed_in(member).get("/admin-portal/hosts/").status_code == 404
