"""What compute adds to the admin portal's host page: the instances on the host, its open audit findings."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.compute import states
from apps.compute.web import host_sections
from apps.infrastructure.models import HostAuditFinding
from apps.infrastructure.tests.factories import HostFactory

from .factories import InstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(cloud_admin):
    client = Client()
    client.force_login(cloud_admin)
    return client


def section(page, name):
    return re.search(rf'id="section-{name}"[^>]*>(.*?)</section>', page, re.S).group(1)


def finding(host, kind, subject, resolved=False):
    now = timezone.now()
    return HostAuditFinding.objects.create(
        host=host,
        kind=kind,
        subject=subject,
        domain_name=subject,
        first_seen=now,
        last_seen=now,
        resolved_at=now if resolved else None,
    )


def test_the_host_page_lists_the_live_instances_on_it_linking_to_their_pages(admin, monkeypatch):
    host = HostFactory(name="kvm-1")
    web = InstanceFactory(host=host, name="web")
    InstanceFactory(host=host, name="db")
    InstanceFactory(host=host, name="gone", vm_state=states.DELETED)
    InstanceFactory(name="elsewhere")
    page = admin.get(reverse("infrastructure:host-detail", args=[host.pk])).content.decode()
    instances = section(page, "instances")
    # Listed by project, then name; each factory instance has a project of its own.
    assert sorted(re.findall(r'<a href="[^"]+/instances/[^"]+/">(\w+)</a>', instances)) == ["db", "web"]
    assert reverse("compute:admin-instance-detail", args=[web.pk]) in instances

    monkeypatch.setattr(host_sections, "INSTANCES_SHOWN", 1)
    page = admin.get(reverse("infrastructure:host-detail", args=[host.pk])).content.decode()
    assert '<a href="/admin-portal/instances/?host=kvm-1">All 2 instances on this host</a>' in page


def test_the_host_page_shows_the_hosts_open_audit_findings_only(admin):
    host = HostFactory(name="kvm-1")
    finding(host, HostAuditFinding.UNMANAGED, "hand-made")
    finding(host, HostAuditFinding.EXTRA, "fixed-long-ago", resolved=True)
    finding(HostFactory(name="kvm-2"), HostAuditFinding.EXTRA, "on-another-host")
    page = admin.get(reverse("infrastructure:host-detail", args=[host.pk])).content.decode()
    findings = section(page, "findings")
    assert re.findall(r'data-kind="(\w+)"', findings) == ["unmanaged_domain"]
    assert "hand-made" in findings
    assert "/admin-portal/host-audit/?host=kvm-1" in findings
