"""An agent's recovery when it starts: it asks the (stub) controller before it starts any guest."""

import threading

from agent import protocol
from agent.drivers.fake import FakeDriver
from agent.instance_files import InstanceFiles
from agent.recovery import Recovery
from agent.tests.builders import make_spec, qcow2_bytes
from agent.tests.conftest import InProcessAgent


def image_ref(controller, tmp_path):
    return controller.add_image(qcow2_bytes(tmp_path, "16M"), "qcow2")


def spawned(agent, spec):
    report = agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))
    assert report.state == "succeeded", report.error


def recovery(agent, sleep=None):
    return Recovery(agent.client, agent.driver, agent.operations, agent.host, sleep=sleep)


def power(driver, spec):
    return driver.status(spec.instance_id).power_state


def test_after_a_power_cut_running_guests_start_again_and_stopped_ones_stay_off(
    tmp_path, controller, fake_agent
):
    image = image_ref(controller, tmp_path)
    running, stopped, paused = (make_spec(image) for _ in range(3))
    for spec in (running, stopped, paused):
        spawned(fake_agent, spec)
        fake_agent.driver.stop(spec.instance_id, 0)
    controller.recovery = protocol.Recovery(
        fenced=False,
        instances=[
            protocol.DesiredInstance(running, "running"),
            protocol.DesiredInstance(stopped, "off"),
            protocol.DesiredInstance(paused, "paused"),
        ],
    )

    answer = recovery(fake_agent).ask()
    recovery(fake_agent).apply(answer)

    assert not answer.fenced
    assert controller.recovery_requests[0].host == fake_agent.host
    assert power(fake_agent.driver, running) == "running"
    assert power(fake_agent.driver, stopped) == "shutoff"
    assert power(fake_agent.driver, paused) == "paused"


def test_a_guest_the_hypervisor_forgot_is_defined_again_from_its_spec_when_its_disks_are_here(
    tmp_path, controller
):
    image = image_ref(controller, tmp_path)
    before = InProcessAgent(tmp_path, controller, FakeDriver())
    spec = make_spec(image)
    spawned(before, spec)
    # A new process: libvirt's test driver (like this fake) forgets its domains, the disks stay.
    after = InProcessAgent(tmp_path, controller, FakeDriver())
    gone = make_spec(image)
    controller.recovery = protocol.Recovery(
        fenced=False,
        instances=[protocol.DesiredInstance(spec, "running"), protocol.DesiredInstance(gone, "running")],
    )

    recovery(after).apply(recovery(after).ask())

    assert power(after.driver, spec) == "running"
    assert after.driver.status(spec.instance_id).spec_sha256 == spec.spec_sha256()
    assert gone.instance_id not in after.driver.domains
    assert InstanceFiles(tmp_path, spec.instance_id).root_disk.exists()


def test_a_fenced_host_destroys_its_guests_and_starts_none(tmp_path, controller, fake_agent):
    image = image_ref(controller, tmp_path)
    running, stopped = make_spec(image), make_spec(image)
    for spec in (running, stopped):
        spawned(fake_agent, spec)
    fake_agent.driver.stop(stopped.instance_id, 0)
    controller.recovery = protocol.Recovery(
        fenced=True, instances=[protocol.DesiredInstance(stopped, "running")]
    )

    answer = recovery(fake_agent).ask()
    recovery(fake_agent).apply(answer)

    assert answer.fenced
    assert power(fake_agent.driver, running) == "shutoff"
    assert power(fake_agent.driver, stopped) == "shutoff"


def test_without_an_answer_nothing_starts_and_the_agent_keeps_asking(tmp_path, controller, fake_agent):
    image = image_ref(controller, tmp_path)
    spec = make_spec(image)
    spawned(fake_agent, spec)
    fake_agent.driver.stop(spec.instance_id, 0)
    fake_agent.client.base_url = "http://127.0.0.1:9"  # nothing listens there
    stopping = threading.Event()
    waits = []

    def wait(seconds):
        waits.append(seconds)
        assert power(fake_agent.driver, spec) == "shutoff"
        if len(waits) == 3:
            stopping.set()

    answer = Recovery(
        fake_agent.client, fake_agent.driver, fake_agent.operations, fake_agent.host, stopping, wait
    ).ask()

    assert answer is None
    assert waits == [1, 2, 5]
    assert power(fake_agent.driver, spec) == "shutoff"
