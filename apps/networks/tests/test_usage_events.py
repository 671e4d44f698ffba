"""Floating IPs' and project networks' usage events: recorded in the transaction of their allocation,
release, creation or deletion, and nothing else.

Both directions: a change that rolls back leaves no event, and an event the
database refuses takes its change with it. The real path through a month is
apps/billing/tests/test_month_end_to_end.py.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.billing.rollup import roll_up
from apps.conftest import login
from apps.core.errors import NotFound
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.metering import events as e
from apps.metering.models import PendingEvent, UsageEvent
from apps.networks.models import FloatingIP, Network, SubnetAddress
from apps.networks.services import floating_ips, networks
from apps.quotas import services as quotas

from .factories import SYSTEM, flat_network, project_network, public_pool


@pytest.fixture
def public(zone, node):
    return public_pool(zone)


def events_of(resource_id):
    return list(
        UsageEvent.objects.filter(resource_id=resource_id)
        .order_by("id")
        .values_list("resource_type", "event_type", "resource_name", "project_id", "domain_path")
    )


def post(api, path, **body):
    return api.post(f"/api/v1/{path}", body, format="json")


def refuse_usage_events():
    """The database refuses every new usage event (this test's transaction only)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE metering_usageevent ADD CONSTRAINT refused CHECK (false) NOT VALID")


def rolled_back(change, *args, **kwargs):
    """`change` in a transaction that then rolls back."""
    with transaction.atomic():
        change(SYSTEM, *args, **kwargs)
        transaction.set_rollback(True)


def test_a_floating_ip_is_metered_from_its_allocation_to_its_release_and_its_associations_change_nothing(
    api, project, zone, node, pool, public
):
    private = project_network(project, zone, cidr="192.168.1.0/24")
    router = post(api, "routers/", name="edge", zone_id=str(zone.pk), external_network_id=str(public.pk)).data
    post(api, f"routers/{router['id']}/add-interface/", subnet_id=str(private.subnets.get().pk))
    port = post(api, "ports/", network_id=str(private.pk)).data
    fip = post(api, "floating-ips/", network_id=str(public.pk)).data
    assert post(api, f"floating-ips/{fip['id']}/associate/", port_id=port["id"]).status_code == 200
    assert post(api, f"floating-ips/{fip['id']}/disassociate/").status_code == 200
    assert api.delete(f"/api/v1/floating-ips/{fip['id']}/").status_code == 204

    address, path = fip["floating_ip_address"], project.domain.path
    assert events_of(fip["id"]) == [
        (e.FLOATING_IP, e.ALLOCATED, address, project.pk, path),
        (e.FLOATING_IP, e.RELEASED, address, project.pk, path),
    ]
    assert PendingEvent.objects.filter(resource_id=fip["id"]).count() == 2


def test_a_project_network_is_metered_while_it_exists_and_the_clouds_own_networks_never(
    api, project, zone, node, pool, public
):
    made = post(api, "networks/", name="private", zone_id=str(zone.pk))
    assert made.status_code == 201, made.content
    assert api.delete(f"/api/v1/networks/{made.data['id']}/").status_code == 204
    path = project.domain.path
    assert events_of(made.data["id"]) == [
        (e.NETWORK, e.CREATED, "private", project.pk, path),
        (e.NETWORK, e.DELETED, "private", project.pk, path),
    ]
    shared = flat_network(zone, shared_with=[project])
    networks.delete_network(SYSTEM, shared)
    assert not UsageEvent.objects.exclude(resource_id=made.data["id"]).exists()
    assert Network.objects.filter(pk=public.pk).exists()


def test_an_allocation_or_a_release_that_rolls_back_leaves_no_usage_event(project, public):
    rolled_back(floating_ips.allocate_floating_ip, project, network_id=public.pk)
    assert not FloatingIP.objects.exists()
    floating = floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk)
    kept = floating.pk
    rolled_back(floating_ips.release_floating_ip, floating)
    assert FloatingIP.objects.filter(pk=kept).exists()
    assert [event[1] for event in UsageEvent.objects.values_list("resource_id", "event_type")] == [
        e.ALLOCATED
    ]
    assert events_of(kept)[0][2] == floating.floating_ip_address


def test_a_network_created_or_deleted_in_a_transaction_that_rolls_back_leaves_no_usage_event(
    project, zone, node, pool
):
    rolled_back(networks.create_network, name="gone", zone=zone, project=project)
    network = networks.create_network(SYSTEM, name="kept", zone=zone, project=project)
    rolled_back(networks.delete_network, network)
    assert [event[1] for event in UsageEvent.objects.values_list("resource_id", "event_type")] == [e.CREATED]


def test_a_usage_event_the_database_refuses_takes_the_allocation_and_the_release_with_it(project, public):
    kept = floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk)
    refuse_usage_events()
    with pytest.raises(IntegrityError), transaction.atomic():
        floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk)
    assert list(FloatingIP.objects.values_list("pk", flat=True)) == [kept.pk]
    assert SubnetAddress.objects.filter(port__isnull=False, subnet__network=public).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        floating_ips.release_floating_ip(SYSTEM, kept)
    assert FloatingIP.objects.filter(pk=kept.pk).exists()


def test_a_usage_event_the_database_refuses_takes_the_network_with_it(project, zone, node, pool):
    kept = networks.create_network(SYSTEM, name="kept", zone=zone, project=project)
    refuse_usage_events()
    with pytest.raises(IntegrityError), transaction.atomic():
        networks.create_network(SYSTEM, name="refused", zone=zone, project=project)
    with pytest.raises(IntegrityError), transaction.atomic():
        networks.delete_network(SYSTEM, kept)
    assert list(Network.objects.filter(project=project).values_list("name", flat=True)) == ["kept"]


def test_another_tenant_can_neither_release_a_floating_ip_nor_see_its_usage(api, project, public):
    domain = DomainFactory(name="domain-of-tenant-b")
    stranger = UserFactory(domain=domain, username="member-of-tenant-b")
    elsewhere = ProjectFactory(domain=domain, name="project-of-tenant-b")
    grant(stranger, "project_member", elsewhere)
    other = login(stranger, project_id=elsewhere.pk)
    with time_machine.travel(timezone.now() - timedelta(hours=3), tick=False):
        fip = post(api, "floating-ips/", network_id=str(public.pk)).data

    assert other.delete(f"/api/v1/floating-ips/{fip['id']}/").status_code == 404
    assert post(other, f"floating-ips/{fip['id']}/disassociate/").status_code == 404
    assert [event[1] for event in events_of(fip["id"])] == [e.ALLOCATED]
    roll_up()
    usage = {"resource_id": fip["id"], "limit": 100}
    assert other.get("/api/v1/usage/", usage).json()["count"] == 0
    rows = api.get("/api/v1/usage/", usage).json()["results"]
    assert {(row["resource_type"], row["resource_id"]) for row in rows} == {(e.FLOATING_IP, fip["id"])}


def test_an_allocation_over_the_quota_records_no_usage_event(api, project, public):
    quotas.set_limit(SYSTEM, project, "floating_ips", 0)
    response = post(api, "floating-ips/", network_id=str(public.pk))
    assert (response.status_code, response.data["error"]["code"]) == (409, "quota_exceeded")
    assert not UsageEvent.objects.exists()
    assert not FloatingIP.objects.exists()


def test_a_floating_ip_released_twice_is_metered_released_once(project, public):
    floating = floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk)
    kept, stale = floating.pk, FloatingIP.objects.get(pk=floating.pk)
    floating_ips.release_floating_ip(SYSTEM, floating)
    with pytest.raises(NotFound):
        floating_ips.release_floating_ip(SYSTEM, stale)
    assert [event[1] for event in events_of(kept)] == [e.ALLOCATED, e.RELEASED]
