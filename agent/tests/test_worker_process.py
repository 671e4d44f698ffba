"""`python -m agent run` as a real process consuming a real Redis queue, driven by signed Celery tasks.

Each test starts its own agent with a unique host name (so a unique queue,
``host.<name>``). The controller side is the stub HTTP server of
agent/tests/stub_controller.py on 127.0.0.1 (the real endpoint is Django code
the agent must not import): it receives the signed reports and heartbeats.
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery

from agent import protocol, signing
from agent.tests.builders import make_spec, new_host_key, qcow2_bytes, signed

BROKER_URL = os.environ.get("CLOUDMGR_BROKER_URL", "redis://127.0.0.1:6379/0")
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.processes


class AgentProcess:
    def __init__(self, tmp_path, controller, driver, **env):
        self.host = f"test-{uuid.uuid4().hex[:12]}"
        self.controller = controller
        self.data_dir = tmp_path / self.host
        controller.host_keys[self.host] = signing.public_key_b64(new_host_key(self.data_dir))
        settings = {
            "BROKER_URL": BROKER_URL,
            "CONTROLLER_URL": controller.url,
            "HOST": self.host,
            "LIBVIRT_URI": "test:///default",
            "DATA_DIR": str(self.data_dir),
            "CONTROLLER_PUBLIC_KEYS": controller.public_key,
            "DRIVER": driver,
            "HEARTBEAT_SECONDS": "1",
            # Networking only in a lab namespace a test names: never the machine's own network.
            "NETWORK_DRIVER": "none",
            **env,
        }
        environ = {**os.environ, **{f"CLOUDMGR_AGENT_{k}": v for k, v in settings.items()}}
        self.log_path = tmp_path / f"{self.host}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "agent", "run"],
                cwd=REPO,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.sender = Celery("test-controller", broker=BROKER_URL, set_as_current=False)

    def send(self, task, payload, key=None, host=None, ttl=30):
        envelope = signed(key or self.controller.signing_key, task, payload, host or self.host, ttl=ttl)
        self.sender.send_task(task, args=[envelope], queue=protocol.queue_for_host(self.host))
        return envelope["task_id"]

    def wait_until_consuming(self):
        """Return once the worker has run a task (a short deadline then measures the task, not startup)."""
        report = self.controller.final_report(self.send(protocol.INVENTORY, protocol.InventoryRequest()), 60)
        assert report.state == "succeeded", self.log()

    def heartbeat(self, predicate=lambda beat: True):
        def find():
            beats = [b for b in self.controller.heartbeats if b.host == self.host and predicate(b)]
            return beats[-1] if beats else None

        return self.controller.wait_for(find, timeout=60)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # cold shutdown: nothing is left to finish
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.sender.close()
        queue = protocol.queue_for_host(self.host)
        redis.Redis.from_url(BROKER_URL).delete(queue, f"_kombu.binding.{queue}")

    def log(self):
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_agent(tmp_path, controller):
    started = []

    def start(driver, **env):
        agent = AgentProcess(tmp_path, controller, driver, **env)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


def test_an_agent_process_spawns_a_domain_from_a_signed_task_on_its_redis_queue(
    start_agent, controller, tmp_path
):
    agent = start_agent("libvirt")
    spec = make_spec(controller.add_image(qcow2_bytes(tmp_path), "qcow2"))

    task_id = agent.send(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))

    report = controller.final_report(task_id, timeout=60)
    assert report.state == "succeeded", (report.error, agent.log())
    assert protocol.parse_result(report.task, report.result).instance.power_state == "running"
    beat = agent.heartbeat(lambda b: spec.instance_id in {i.instance_id for i in b.inventory.instances})
    assert beat.protocol_version == protocol.PROTOCOL_VERSION
    assert beat.hypervisor.type == "TEST"
    assert beat.capacity.disk_free_mb > 0
    assert "test" in {d.name for d in beat.inventory.unmanaged_domains}
    assert [c.sha256 for c in beat.cached_images] == [spec.image.sha256]


def test_an_agent_process_refuses_forged_and_misrouted_tasks_and_keeps_serving(start_agent, controller):
    agent = start_agent("fake")
    forged = agent.send(protocol.INVENTORY, protocol.InventoryRequest(), key=signing.generate_private_key())
    misrouted = agent.send(protocol.INVENTORY, protocol.InventoryRequest(), host="compute-elsewhere")

    genuine = agent.send(protocol.INVENTORY, protocol.InventoryRequest())

    assert controller.final_report(genuine, timeout=60).state == "succeeded"
    assert {r.task_id for r in controller.reports} & {forged, misrouted} == set()
    log = agent.log()
    assert "bad_signature" in log
    assert "wrong_host" in log


def test_a_hung_driver_call_fails_at_the_deadline_and_the_single_thread_worker_stays_healthy(
    start_agent, controller, tmp_path
):
    agent = start_agent("fake", FAKE_FAULTS="define:hang", CONCURRENCY="1")
    spec = make_spec(controller.add_image(qcow2_bytes(tmp_path), "qcow2"))
    agent.wait_until_consuming()

    hung = agent.send(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec), ttl=5)
    after = agent.send(protocol.INVENTORY, protocol.InventoryRequest())

    report = controller.final_report(hung, timeout=60)
    assert (report.state, report.error.code) == ("failed", protocol.ERR_TIMEOUT), agent.log()
    assert controller.final_report(after, timeout=60).state == "succeeded"
    assert agent.heartbeat(lambda b: b.stuck_operations == 1).host == agent.host
    assert agent.process.poll() is None


def test_a_broadcast_on_the_broker_reaches_no_agent(start_agent, controller):
    """Any host can write to the broker: remote control would let it shut down or re-route every agent."""
    agent = start_agent("fake")
    agent.wait_until_consuming()
    destination = [f"cloudmgr-agent@{agent.host}"]

    answers = agent.sender.control.ping(destination=destination, timeout=2)
    agent.sender.control.broadcast("shutdown", destination=destination)
    agent.sender.control.add_consumer("host.someone-else", destination=destination)

    assert answers == []
    agent.wait_until_consuming()
    assert agent.process.poll() is None
    assert "host.someone-else" not in agent.log()
