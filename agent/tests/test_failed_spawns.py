"""A spawn that fails, runs past its deadline or arrives after its instance's delete leaves nothing running.

The controller holds a failed or overdue spawn's instance in `error`; the host
must not keep a guest for it. These tests run the executor in-process with the
fake driver, whose faults stand in for a hypervisor that refuses or answers late,
and drive an operation's clock directly where a test needs its deadline to pass
at one exact step.
"""

import time

import pytest

from agent import protocol
from agent.errors import AgentError
from agent.instance_files import InstanceFiles
from agent.tests.builders import SteppedClock, make_spec, qcow2_bytes, spawn_with


@pytest.fixture
def spec(controller, tmp_path):
    return make_spec(controller.add_image(qcow2_bytes(tmp_path), "qcow2"))


def leaves_nothing(driver, spec, data_dir):
    return (
        spec.instance_id not in driver.domains and not InstanceFiles(data_dir, spec.instance_id).dir.exists()
    )


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_spawn_that_fails_to_start_leaves_no_domain_and_no_files(fake_agent, fake_driver, spec, tmp_path):
    fake_driver.faults["start"] = "fail"

    report = fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))

    assert (report.state, report.error.code) == ("failed", protocol.ERR_HYPERVISOR)
    assert leaves_nothing(fake_driver, spec, tmp_path)


def test_a_spawn_whose_image_is_refused_leaves_no_files(fake_agent, fake_driver, controller, spec, tmp_path):
    controller.images[spec.image.image_id] = b"not the bytes the checksum names"

    report = fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))

    assert report.state == "failed"
    assert leaves_nothing(fake_driver, spec, tmp_path)


def test_a_spawn_whose_deadline_passed_while_it_made_the_disks_defines_nothing(fake_agent, fake_driver, spec):
    # Were the domain defined, the injected failure would be the error instead of the timeout.
    fake_driver.faults["define"] = "fail"

    with pytest.raises(AgentError) as late:
        spawn_with(fake_agent, spec, SteppedClock(at="creating the disks"))

    assert late.value.code == protocol.ERR_TIMEOUT
    assert "before defining the domain" in late.value.message
    assert fake_driver.domains == {}


def test_a_spawn_that_started_too_late_removes_its_running_guest(fake_agent, fake_driver, spec, tmp_path):
    with pytest.raises(AgentError) as late:
        spawn_with(fake_agent, spec, SteppedClock(at="starting the domain"))

    assert late.value.code == protocol.ERR_TIMEOUT
    assert leaves_nothing(fake_driver, spec, tmp_path)


def test_an_abandoned_spawn_that_goes_on_after_the_watchdog_gave_up_leaves_nothing(
    fake_agent, fake_driver, spec, tmp_path
):
    # Were the abandoned thread to start the guest, it would hang there and stay stuck.
    fake_driver.faults.update(define="stall", start="hang")

    report = fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec), ttl=2)
    assert (report.state, report.error.code) == ("failed", protocol.ERR_TIMEOUT)
    assert fake_agent.watchdog.stuck == 1

    # The hypervisor answers at last: the abandoned thread defines, then finds its deadline gone.
    del fake_driver.faults["define"]
    wait_until(lambda: fake_agent.watchdog.stuck == 0)

    assert leaves_nothing(fake_driver, spec, tmp_path)


def test_a_spawn_that_arrives_after_its_instances_delete_does_nothing(
    fake_agent, fake_driver, spec, tmp_path
):
    deleted = fake_agent.run(protocol.DELETE_INSTANCE, protocol.InstanceTask(spec.instance_id))
    assert deleted.state == "succeeded"

    for task, payload in [
        (protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)),
        (protocol.REBUILD_INSTANCE, protocol.RebuildInstance(spec)),
        (protocol.START_INSTANCE, protocol.InstanceTask(spec.instance_id)),
    ]:
        late = fake_agent.run(task, payload)
        assert (late.state, late.error.code) == ("failed", protocol.ERR_INSTANCE_DELETED), task

    assert leaves_nothing(fake_driver, spec, tmp_path)
    again = fake_agent.run(protocol.DELETE_INSTANCE, protocol.InstanceTask(spec.instance_id))
    assert again.state == "succeeded"


def test_a_delete_that_failed_leaves_the_instance_usable(fake_agent, fake_driver, spec):
    assert fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)).state == "succeeded"
    fake_driver.faults["delete"] = "fail"

    assert fake_agent.run(protocol.DELETE_INSTANCE, protocol.InstanceTask(spec.instance_id)).state == "failed"

    del fake_driver.faults["delete"]
    restarted = fake_agent.run(protocol.REBOOT_INSTANCE, protocol.RebootInstance(spec.instance_id, hard=True))
    assert restarted.state == "succeeded"


def test_a_rebuild_gives_a_guest_back_to_an_instance_whose_spawn_left_nothing(fake_agent, fake_driver, spec):
    fake_driver.faults["start"] = "fail"
    assert fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)).state == "failed"
    del fake_driver.faults["start"]

    rebuilt = fake_agent.run(protocol.REBUILD_INSTANCE, protocol.RebuildInstance(spec))

    assert rebuilt.state == "succeeded", rebuilt.error
    assert fake_driver.domains[spec.instance_id]["state"] == "running"


def test_tombstones_of_deleted_instances_are_pruned_with_the_journal(fake_agent, spec):
    fake_agent.run(protocol.DELETE_INSTANCE, protocol.InstanceTask(spec.instance_id))

    fake_agent.journal.prune(older_than_seconds=60, now=time.time() + 3600)

    assert not fake_agent.journal.was_deleted(spec.instance_id)
