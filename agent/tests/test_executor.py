"""Running tasks in-process with the fake driver: refusals, injected failures, hangs and the watchdog.

The controller is the stub HTTP server of agent/tests/stub_controller.py (the
real one is Django, which the agent must not import); reports reach it over
HTTP, signed.
"""

import socket
import time

import pytest

from agent import protocol, signing
from agent.controller_client import ControllerClient
from agent.reporter import Reporter
from agent.tests.builders import make_spec, new_id, qcow2_bytes, signed


@pytest.fixture
def spec(controller, tmp_path):
    return make_spec(controller.add_image(qcow2_bytes(tmp_path), "qcow2"))


def test_a_spawn_reports_running_progress_and_its_result(fake_agent, controller, spec):
    report = fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))

    assert report.state == "succeeded", report.error
    result = protocol.parse_result(report.task, report.result)
    assert (result.instance.instance_id, result.instance.power_state) == (spec.instance_id, "running")
    states = [r.state for r in controller.reports if r.task_id == report.task_id]
    assert states[0] == "running"
    assert states[-1] == "succeeded"


def test_a_task_with_a_bad_signature_is_refused_and_nothing_runs(fake_agent, controller, fake_driver, spec):
    envelope = signed(
        signing.generate_private_key(), protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec), "compute-1"
    )

    outcome = fake_agent.executor.execute(protocol.SPAWN_INSTANCE, envelope)

    assert outcome == {"refused": "bad_signature"}
    assert fake_driver.domains == {}
    assert controller.reports == []


def test_a_task_for_another_host_is_refused_and_nothing_runs(fake_agent, controller, fake_driver, spec):
    envelope = signed(
        controller.signing_key, protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec), "compute-2"
    )

    outcome = fake_agent.executor.execute(protocol.SPAWN_INSTANCE, envelope)

    assert outcome == {"refused": "wrong_host"}
    assert fake_driver.domains == {}
    assert controller.reports == []


def test_an_expired_task_is_not_run_and_reported_as_expired(fake_agent, controller, fake_driver, spec):
    envelope = signed(
        controller.signing_key,
        protocol.SPAWN_INSTANCE,
        protocol.SpawnInstance(spec),
        "compute-1",
        expires_at=time.time() - 5,
    )

    outcome = fake_agent.executor.execute(protocol.SPAWN_INSTANCE, envelope)

    assert outcome == {"refused": "expired"}
    assert fake_driver.domains == {}
    report = controller.final_report(envelope["task_id"])
    assert (report.state, report.error.code) == ("failed", protocol.ERR_TASK_EXPIRED)


def test_a_failure_injected_at_a_step_is_reported_with_its_code(fake_agent, fake_driver, spec):
    fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))
    fake_driver.faults["stop"] = "fail"

    report = fake_agent.run(protocol.STOP_INSTANCE, protocol.StopInstance(spec.instance_id))

    assert (report.state, report.error.code) == ("failed", protocol.ERR_HYPERVISOR)
    assert "injected failure at stop" in report.error.message


def test_a_hung_step_times_out_at_the_deadline_and_the_agent_keeps_working(fake_agent, fake_driver, spec):
    fake_driver.faults["define"] = "hang"

    report = fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec), ttl=2)

    assert (report.state, report.error.code) == ("failed", protocol.ERR_TIMEOUT)
    assert fake_agent.watchdog.stuck == 1
    healthy = fake_agent.run(protocol.INVENTORY, protocol.InventoryRequest())
    assert healthy.state == "succeeded"


def test_an_instance_stays_busy_while_its_hung_operation_has_not_returned(fake_agent, fake_driver, spec):
    fake_driver.faults["define"] = "hang"
    fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec), ttl=2)
    del fake_driver.faults["define"]

    busy = fake_agent.run(protocol.START_INSTANCE, protocol.InstanceTask(spec.instance_id), ttl=2)
    assert (busy.state, busy.error.code) == ("failed", protocol.ERR_INSTANCE_BUSY)

    fake_driver.release_hangs()
    _wait_until(lambda: fake_agent.watchdog.stuck == 0)
    retried = fake_agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))
    assert retried.state == "succeeded"


def test_a_redelivered_finished_task_reports_its_outcome_again_without_running(
    fake_agent, controller, fake_driver, spec
):
    envelope = signed(
        controller.signing_key, protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec), "compute-1"
    )
    fake_agent.executor.execute(protocol.SPAWN_INSTANCE, envelope)
    fake_driver.faults["define"] = "fail"

    outcome = fake_agent.executor.execute(protocol.SPAWN_INSTANCE, envelope)

    assert outcome["redelivered"] is True
    finals = [
        r.state for r in controller.reports if r.task_id == envelope["task_id"] and r.state != "progress"
    ]
    assert finals == ["running", "succeeded", "succeeded"]


def test_a_final_report_the_controller_cannot_take_now_waits_in_the_outbox(
    fake_agent, controller, spec, tmp_path
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = ControllerClient(
        f"http://127.0.0.1:{closed_port}", "compute-1", signing.generate_private_key()
    )
    offline = Reporter(unreachable, tmp_path / "outbox")
    offline.retry_delays = ()
    report = _final_report(spec)

    offline.send(report)

    assert [p.name for p in offline.outbox.iterdir()] == [f"{report.task_id}-succeeded.json"]
    fake_agent.reporter.flush()
    assert controller.final_report(report.task_id) == report
    assert list(offline.outbox.iterdir()) == []


def _final_report(spec):
    return protocol.TaskReport(
        protocol_version=protocol.PROTOCOL_VERSION,
        host="compute-1",
        task_id=new_id(),
        task=protocol.START_INSTANCE,
        state="succeeded",
        sent_at=int(time.time()),
        result={"instance": {"instance_id": spec.instance_id, "domain_name": "x", "power_state": "running"}},
    )


def _wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return True
