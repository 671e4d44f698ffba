"""The instance state table: each action starts only from its states, moves are compare-and-set."""

import pytest

from apps.compute import states
from apps.compute.models import Instance
from apps.core.errors import Conflict

from .factories import InstanceFactory

RESTING = list(states.VM_STATES)


def every_start():
    """(action, vm_state, allowed) for every action and every resting vm_state with no task."""
    return [
        (name, vm_state, vm_state in action.from_vm and None in action.from_task)
        for name, action in states.TRANSITIONS.items()
        if name != "spawn"
        for vm_state in RESTING
    ]


@pytest.mark.parametrize(("action_name", "vm_state", "allowed"), every_start())
def test_an_action_starts_only_from_the_states_the_table_allows(root, action_name, vm_state, allowed):
    instance = InstanceFactory(vm_state=vm_state)
    if allowed:
        states.begin(instance, action_name)
        stored = Instance.objects.get(pk=instance.pk)
        assert (stored.vm_state, stored.task_state) == (vm_state, states.TRANSITIONS[action_name].task)
    else:
        with pytest.raises(Conflict) as caught:
            states.begin(instance, action_name)
        assert caught.value.code == "instance_invalid_state"
        assert caught.value.details == {"action": action_name, "vm_state": vm_state, "task_state": None}
        assert Instance.objects.get(pk=instance.pk).task_state is None


def test_no_action_but_delete_starts_while_another_runs(root):
    instance = InstanceFactory()
    states.begin(instance, "stop")
    for name in states.TRANSITIONS:
        if name == "delete":
            continue
        with pytest.raises(Conflict):
            states.begin(Instance.objects.get(pk=instance.pk), name)
    states.begin(Instance.objects.get(pk=instance.pk), "delete")
    with pytest.raises(Conflict):
        states.begin(Instance.objects.get(pk=instance.pk), "delete")


def test_a_move_based_on_a_stale_read_is_refused(root):
    """Two requests read the instance active; only the first one's move happens."""
    first_read = InstanceFactory()
    second_read = Instance.objects.get(pk=first_read.pk)
    states.begin(first_read, "stop")
    with pytest.raises(Conflict):
        states.begin(second_read, "pause")
    assert Instance.objects.get(pk=first_read.pk).task_state == states.POWERING_OFF


@pytest.mark.parametrize(("succeeded", "expected"), [(True, states.STOPPED), (False, states.ACTIVE)])
def test_an_action_finishes_once_into_its_done_or_failed_state(root, succeeded, expected):
    instance = InstanceFactory()
    states.begin(instance, "stop")
    assert states.finish(instance.pk, "stop", succeeded=succeeded)
    assert not states.finish(instance.pk, "stop", succeeded=not succeeded)
    stored = Instance.objects.get(pk=instance.pk)
    assert (stored.vm_state, stored.task_state) == (expected, None)


def test_an_answer_about_an_action_a_delete_overtook_changes_nothing(root):
    instance = InstanceFactory()
    states.begin(instance, "reboot")
    states.begin(Instance.objects.get(pk=instance.pk), "delete")
    assert not states.finish(instance.pk, "reboot", succeeded=True)
    assert Instance.objects.get(pk=instance.pk).task_state == states.DELETING


def test_a_spawn_moves_from_scheduling_to_spawning_then_to_active_or_error(root):
    building = InstanceFactory(vm_state=states.BUILDING, task_state=states.SCHEDULING)
    states.begin(building, "spawn")
    assert states.finish(building.pk, "spawn", succeeded=True)
    assert Instance.objects.get(pk=building.pk).vm_state == states.ACTIVE
    failing = InstanceFactory(vm_state=states.BUILDING, task_state=states.SCHEDULING)
    states.begin(failing, "spawn")
    assert states.finish(failing.pk, "spawn", succeeded=False)
    assert Instance.objects.get(pk=failing.pk).vm_state == states.ERROR
