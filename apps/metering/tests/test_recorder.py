"""The recorder: one statement in the caller's transaction, carrying all billing will need."""

import uuid

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from apps.compute.models import Instance
from apps.compute.tests.factories import InstanceFactory
from apps.core.actor import Actor
from apps.identity.services.projects import move_project
from apps.identity.tests.factories import DomainFactory
from apps.metering import events as e
from apps.metering.models import PendingEvent, ProjectMove, UsageEvent
from apps.metering.recorder import UnknownProject, record, record_rows


def record_running(instance, **extra):
    record(
        e.INSTANCE,
        e.RUNNING,
        resource_id=instance.pk,
        resource_name=instance.name,
        project_id=instance.project_id,
        offering_id=instance.offering_id,
        offering_name=instance.offering.name,
        **extra,
    )


def test_recording_is_one_statement_that_reads_nothing_before_it(project):
    instance = InstanceFactory(project=project)
    with CaptureQueriesContext(connection) as queries:
        record_running(instance)

    assert len(queries) == 1
    assert queries[0]["sql"].lstrip().startswith("WITH event AS (")
    event = UsageEvent.objects.get()
    assert (event.resource_type, event.event_type, event.resource_id) == (e.INSTANCE, e.RUNNING, instance.pk)
    assert (event.offering_id, event.offering_name) == (instance.offering_id, instance.offering.name)
    assert list(PendingEvent.objects.values_list("event_id", flat=True)) == [event.pk]


def test_an_event_carries_the_domain_path_its_project_had_when_it_happened(project, root):
    instance = InstanceFactory(project=project)
    old_path = project.domain.path
    record_running(instance)
    move_project(Actor.system("test"), project, DomainFactory())
    record(e.INSTANCE, e.STOPPED, resource_id=instance.pk, project_id=project.pk)

    paths = list(UsageEvent.objects.order_by("id").values_list("domain_path", flat=True))
    project.refresh_from_db()
    assert paths == [old_path, project.domain.path]
    assert old_path != project.domain.path


def test_a_project_move_is_recorded_with_both_places_and_its_time(project, root):
    before = project.domain.path
    target = DomainFactory()
    with time_machine.travel("2026-11-15 12:00:00+00:00", tick=False):
        move_project(Actor.system("test"), project, target)

    move = ProjectMove.objects.get()
    assert (move.project_id, move.from_path, move.to_path) == (project.pk, before, target.path)
    assert move.moved_at.isoformat() == "2026-11-15T12:00:00+00:00"


def test_no_event_survives_the_rollback_of_its_change(project):
    instance = InstanceFactory(project=project)

    def change_that_fails_after_recording():
        with transaction.atomic():
            record_running(instance)
            raise RuntimeError("the state change failed after recording")

    with pytest.raises(RuntimeError):
        change_that_fails_after_recording()

    assert not UsageEvent.objects.exists()
    assert not PendingEvent.objects.exists()


def test_an_event_for_a_project_that_does_not_exist_fails_its_transaction(project):
    with pytest.raises(UnknownProject), transaction.atomic():
        record(e.NETWORK, e.CREATED, resource_id=uuid.uuid4(), project_id=uuid.uuid4())

    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize(
    ("resource_type", "event_type", "extra"),
    [
        ("volume", e.CREATED, {}),
        (e.INSTANCE, e.ALLOCATED, {}),
        (e.INSTANCE, e.RUNNING, {}),
        (e.IMAGE, e.STORED, {}),
        (e.SNAPSHOT, e.STORED, {"size_bytes": -1}),
    ],
)
def test_an_event_outside_the_vocabulary_or_missing_what_it_must_carry_is_refused(
    project, resource_type, event_type, extra
):
    with pytest.raises(ValueError, match=resource_type):
        record(resource_type, event_type, resource_id=uuid.uuid4(), project_id=project.pk, **extra)

    assert not UsageEvent.objects.exists()


def instance_rows(*instances):
    return Instance.objects.filter(pk__in=[i.pk for i in instances]).values(
        "project_id",
        "offering_id",
        resource_id=F("id"),
        resource_name=F("name"),
        offering_name=F("offering__name"),
    )


def test_rows_of_a_query_are_recorded_in_one_statement_when_only_ids_are_at_hand(project):
    first, second = InstanceFactory(project=project), InstanceFactory(project=project)

    with CaptureQueriesContext(connection) as queries:
        recorded = record_rows(e.INSTANCE, e.RUNNING, instance_rows(first, second))

    assert (recorded, len(queries)) == (2, 1)
    events = {ev.resource_id: ev for ev in UsageEvent.objects.all()}
    assert events[first.pk].offering_name == first.offering.name
    assert events[second.pk].domain_path == project.domain.path
    assert PendingEvent.objects.count() == 2


def test_rows_that_lack_what_the_event_must_carry_are_refused(project):
    instance = InstanceFactory(project=project)
    rows = Instance.objects.filter(pk=instance.pk).values("project_id", resource_id=F("id"))

    with pytest.raises(ValueError, match="offering_id"):
        record_rows(e.INSTANCE, e.RUNNING, rows)
    assert record_rows(e.INSTANCE, e.STOPPED, rows) == 1
