"""Tenant-isolation cases of the zone, host and agent routes (see apps/core/tests/isolation.py)."""

from django.utils import timezone

from apps.core.tests.isolation import Case, per_tenant, platform
from apps.images.tests.factories import active_image

from ..models import HostAuditFinding
from .factories import HostFactory, ZoneFactory


@platform("api:zone-detail", reason="Zones are the cloud-wide catalogue tenants pick from at launch.")
def a_zone(tenants):
    zone = ZoneFactory(name="zone-of-the-platform")
    return Case(zone, {"pk": zone.pk}, body={"description": "changed"})


@platform(
    "api:host-detail",
    "api:host-enrollment-token",
    reason="Hosts belong to the cloud, not to a tenant: only cloud admins see or change them.",
)
def a_host(tenants):
    host = HostFactory(name="host-of-the-platform")
    return Case(host, {"pk": host.pk}, body={"enabled": False})


@platform(
    "infrastructure:host-detail",
    "infrastructure:host-action",
    "infrastructure:host-enrollment",
    "infrastructure:host-token",
    reason="Hosts belong to the cloud, not to a tenant: only cloud admins see or change them.",
)
def a_host_on_its_admin_page(tenants):
    host = HostFactory(name="host-of-the-platform")
    return Case(host, {"host_id": host.pk}, body={"op": "disable"})


@platform(
    "infrastructure:zone-detail",
    "infrastructure:zone-update",
    "infrastructure:zone-delete",
    reason="Zones are the cloud-wide catalogue tenants pick from at launch; only cloud admins manage them.",
)
def a_zone_on_its_admin_page(tenants):
    zone = ZoneFactory(name="zone-of-the-platform")
    body = {"name": zone.name, "description": "changed", "enabled": "on"}
    return Case(zone, {"zone_id": zone.pk}, body=body)


@per_tenant("agent:image-data")
def another_tenants_image_at_the_agents_path(tenants):
    image = active_image(tenants.other.project, name="image-of-tenant-b")
    # PUT is a host's snapshot upload; apps/compute/tests/test_snapshot.py shows another host refused.
    return Case(image, {"image_id": image.pk}, host_only_methods=("PUT",))


@platform("api:host-audit-detail", reason="Audit findings are about hosts: only cloud admins see them.")
def a_host_audit_finding(tenants):
    now = timezone.now()
    finding = HostAuditFinding.objects.create(
        host=HostFactory(name="host-with-drift"),
        kind=HostAuditFinding.UNMANAGED,
        subject="3f0c1d4e-4a57-4f43-9b7c-3a1e2b3c4d5e",
        domain_name="hand-made",
        first_seen=now,
        last_seen=now,
    )
    return Case.of(finding)
