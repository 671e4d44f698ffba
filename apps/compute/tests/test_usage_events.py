"""Instances' usage events: every end of an action, every guest that shut itself down, recorded in the
transaction of the state change, and nothing else.

Both directions: a state change that rolls back leaves no event, and an event
the database refuses takes its state change with it. The real agent path is
apps/billing/tests/test_month_end_to_end.py.
"""

import random
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from agent import protocol
from apps.compute import states
from apps.compute.host_audit import audit_hosts
from apps.compute.models import Instance
from apps.compute.services.lifecycle import action_failed, action_succeeded
from apps.compute.usage import RECORDED_BY_MOVES, USAGE_AFTER
from apps.infrastructure.models import Host
from apps.infrastructure.tests.agents import SignedAgent
from apps.jobs.services import sweep_overdue
from apps.metering import events as e
from apps.metering.models import PendingEvent, UsageEvent

from .factories import InstanceFactory

# What an instance resting in a vm_state is billed as; an instance in error may be either (a failed
# delete leaves its guest as it was, a failed rebuild leaves none running).
BILLED_AS = {
    states.ACTIVE: e.RUNNING,
    states.PAUSED: e.RUNNING,
    states.STOPPED: e.STOPPED,
    states.SUSPENDED: e.STOPPED,
    states.DELETED: e.DELETED,
}


def events_of(instance):
    return list(
        UsageEvent.objects.filter(resource_id=instance.pk).order_by("id").values_list("event_type", flat=True)
    )


def in_action(action, vm_state, project):
    """An instance in `vm_state` that has just begun `action` (as the API begins it)."""
    task_state = states.SCHEDULING if action == "spawn" else None
    instance = InstanceFactory(project=project, vm_state=vm_state, task_state=task_state)
    states.begin(instance, action)
    return instance


def end(instance, action, succeeded):
    if succeeded:
        return action_succeeded(instance.pk, action, power_state="running")
    return action_failed(instance.pk, action, "host_error", "the host could not do it")


@pytest.mark.parametrize(
    ("action", "vm_state", "succeeded", "recorded"),
    [
        ("spawn", states.BUILDING, True, [e.RUNNING]),
        ("spawn", states.BUILDING, False, []),
        ("start", states.STOPPED, True, [e.RUNNING]),
        ("start", states.STOPPED, False, []),
        ("stop", states.ACTIVE, True, [e.STOPPED]),
        ("stop", states.PAUSED, True, [e.STOPPED]),
        ("stop", states.ACTIVE, False, []),
        ("suspend", states.ACTIVE, True, [e.STOPPED]),
        ("resume", states.SUSPENDED, True, [e.RUNNING]),
        ("pause", states.ACTIVE, True, []),
        ("unpause", states.PAUSED, True, []),
        ("reboot", states.ACTIVE, True, []),
        ("reboot_hard", states.STOPPED, True, [e.RUNNING]),
        ("reboot_hard", states.ERROR, True, [e.RUNNING]),
        ("rebuild", states.STOPPED, True, [e.RUNNING]),
        ("rebuild", states.ACTIVE, False, [e.STOPPED]),
        ("snapshot", states.ACTIVE, True, []),
        ("delete", states.ACTIVE, True, [e.DELETED]),
        ("delete", states.STOPPED, False, []),
    ],
)
def test_the_end_of_an_action_records_what_the_instance_is_billed_as_from_then_on(
    project, action, vm_state, succeeded, recorded
):
    instance = in_action(action, vm_state, project)
    assert end(instance, action, succeeded)
    assert events_of(instance) == recorded
    for event in UsageEvent.objects.filter(resource_id=instance.pk):
        assert (event.resource_type, event.project_id, event.resource_name) == (
            e.INSTANCE,
            project.pk,
            instance.name,
        )
        assert (event.offering_id, event.offering_name) == (instance.offering_id, instance.offering.name)
        assert event.domain_path == project.domain.path
    assert PendingEvent.objects.count() == len(recorded)


def test_the_table_names_an_event_for_every_end_of_an_action_that_changes_whether_an_instance_runs():
    """Checked against the state machine itself, so an action added later (resize, migration) that
    starts or stops instances fails here until its event is named."""
    for name, transition in states.TRANSITIONS.items():
        if name in RECORDED_BY_MOVES:
            assert not {(name, True), (name, False)} & USAGE_AFTER.keys(), name
            continue
        for succeeded, outcome in ((True, transition.done), (False, transition.failed)):
            recorded = USAGE_AFTER.get((name, succeeded))
            if outcome is None:
                assert recorded is None, (name, succeeded)
            elif outcome == states.ERROR:
                assert recorded != e.RUNNING, (name, succeeded)
            else:
                before = {
                    BILLED_AS.get(s) for s in transition.from_vm if s in BILLED_AS or s == states.BUILDING
                }
                after = BILLED_AS[outcome]
                if before - {after}:
                    assert recorded == after, (name, succeeded, before, after)


def test_a_late_or_repeated_answer_records_nothing(project):
    instance = in_action("stop", states.ACTIVE, project)
    assert action_succeeded(instance.pk, "stop")
    assert not action_succeeded(instance.pk, "stop")
    assert not action_failed(instance.pk, "stop", "late", "a late failure")
    assert events_of(instance) == [e.STOPPED]


def test_a_state_change_rolled_back_leaves_no_usage_event(project):
    instance = in_action("stop", states.ACTIVE, project)

    def stopped_then_failed():
        with transaction.atomic():
            assert action_succeeded(instance.pk, "stop")
            raise RuntimeError("the rest of the transaction failed")

    with pytest.raises(RuntimeError):
        stopped_then_failed()
    assert events_of(instance) == []
    assert PendingEvent.objects.count() == 0
    assert Instance.objects.get(pk=instance.pk).task_state == states.POWERING_OFF


@pytest.fixture
def events_refused():
    """The database refuses every new usage event (this test's transaction only)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE metering_usageevent ADD CONSTRAINT refused CHECK (false) NOT VALID")


def test_a_usage_event_the_database_refuses_takes_the_state_change_with_it(project, events_refused):
    instance = in_action("stop", states.ACTIVE, project)
    with pytest.raises(IntegrityError), transaction.atomic():
        action_succeeded(instance.pk, "stop")
    instance.refresh_from_db()
    assert (instance.vm_state, instance.task_state) == (states.ACTIVE, states.POWERING_OFF)


@pytest.fixture
def agent(root, signing_key):
    signed = SignedAgent.enrolled("metered-host")
    assert signed.heartbeat().status_code == 200
    return signed


def at_rest_before_the_listing(*instances):
    """The host lists domains after these last changed (a listing older than a change is not believed)."""
    Instance.objects.filter(pk__in=[i.pk for i in instances]).update(
        updated_at=timezone.now() - timedelta(seconds=10)
    )


def test_a_guest_that_shut_itself_down_is_stopped_and_metered_so_in_the_heartbeats_transaction(
    agent, project
):
    host = Host.objects.get(name=agent.name)
    halted = InstanceFactory(project=project, host=host)
    crashed = InstanceFactory(project=project, host=host)
    at_rest_before_the_listing(halted, crashed)
    statuses = [
        protocol.DomainStatus(str(halted.pk), "d1", "shutoff", reason="shutdown"),
        protocol.DomainStatus(str(crashed.pk), "d2", "shutoff", reason="crashed"),
    ]
    assert agent.heartbeat(instances=statuses).status_code == 200
    assert (events_of(halted), events_of(crashed)) == ([e.STOPPED], [])
    # Off for another reason the instance stays active, billed as running, for recovery to act on.
    assert Instance.objects.get(pk=crashed.pk).vm_state == states.ACTIVE

    assert agent.heartbeat(instances=statuses).status_code == 200
    assert events_of(halted) == [e.STOPPED]


def test_a_heartbeat_whose_usage_event_is_refused_changes_no_instance(agent, project, events_refused):
    host = Host.objects.get(name=agent.name)
    halted = InstanceFactory(project=project, host=host)
    at_rest_before_the_listing(halted)
    status = protocol.DomainStatus(str(halted.pk), "d1", "shutoff", reason="shutdown")
    with pytest.raises(IntegrityError), transaction.atomic():
        agent.heartbeat(instances=[status])
    assert Instance.objects.get(pk=halted.pk).vm_state == states.ACTIVE


def test_the_host_audit_meters_a_guest_shutdown_it_syncs(agent, project):
    host = Host.objects.get(name=agent.name)
    halted = InstanceFactory(project=project, host=host)
    at_rest_before_the_listing(halted)
    inventory = protocol.Inventory(
        instances=[protocol.DomainStatus(str(halted.pk), "d1", "shutoff", reason="shutdown")]
    )
    Host.objects.filter(pk=host.pk).update(
        reported_inventory=inventory.to_dict(), inventory_reported_at=timezone.now()
    )
    audit_hosts(Host.objects.filter(pk=host.pk))
    assert Instance.objects.get(pk=halted.pk).vm_state == states.STOPPED
    assert events_of(halted) == [e.STOPPED]


def test_a_rebuild_past_its_deadline_leaves_the_instance_in_error_and_no_longer_running(api, project, image):
    instance = InstanceFactory(project=project)
    response = api.post(
        f"/api/v1/instances/{instance.pk}/rebuild/", {"image_id": str(image.pk)}, format="json"
    )
    assert response.status_code == 202, response.content
    assert sweep_overdue(now=timezone.now() + timedelta(days=1)) == 1
    assert Instance.objects.get(pk=instance.pk).vm_state == states.ERROR
    assert events_of(instance) == [e.STOPPED]


@pytest.mark.parametrize("seed", range(5))
def test_after_any_walk_through_the_actions_the_latest_event_agrees_with_the_instance(project, seed):
    chance = random.Random(seed)
    instance = in_action("spawn", states.BUILDING, project)
    assert end(instance, "spawn", True)
    for _ in range(40):
        instance.refresh_from_db()
        # Moves record when they end, through their own path (test_moves_*.py, test_host_loss.py).
        allowed = [
            a
            for a in states.TRANSITIONS
            if a != "delete" and a not in RECORDED_BY_MOVES and states.allows(a, instance.vm_state, None)
        ]
        action = chance.choice(allowed)
        states.begin(instance, action)
        assert end(instance, action, chance.random() < 0.8)
        instance.refresh_from_db()
        recorded = events_of(instance)
        latest = recorded[-1] if recorded else None
        if instance.vm_state in BILLED_AS:
            assert latest == BILLED_AS[instance.vm_state], (action, instance.vm_state, recorded)
        else:
            assert instance.vm_state == states.ERROR
