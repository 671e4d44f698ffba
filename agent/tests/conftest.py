"""Fixtures for the agent's tests: a stub controller, and an agent's parts wired to it in-process."""

import time

import pytest

from agent import pki, signing
from agent.controller_client import ControllerClient
from agent.drivers.fake import FakeDriver
from agent.executor import TaskExecutor
from agent.image_cache import ImageCache
from agent.journal import TaskJournal
from agent.moves import MoveOperations
from agent.network.linux import LinuxNetworkDriver
from agent.network.manager import NetworkManager
from agent.network.plan import NetworkConfig
from agent.operations import Operations
from agent.reporter import Reporter
from agent.tests.builders import new_id, qcow2_bytes
from agent.tests.netlab import Lab
from agent.tests.stub_controller import StubController
from agent.watchdog import Watchdog

HOST = "compute-1"


@pytest.fixture
def controller():
    with StubController() as stub:
        yield stub


@pytest.fixture
def image(controller, tmp_path):
    """A 32 MiB qcow2 image the stub controller serves."""
    return controller.add_image(qcow2_bytes(tmp_path, "32M"), "qcow2")


class InProcessAgent:
    """The agent's parts as agent.worker.Agent wires them, around a given driver, without Celery."""

    def __init__(self, data_dir, controller, driver, host=HOST, network=None):
        host_key = signing.generate_private_key()
        controller.host_keys[host] = signing.public_key_b64(host_key)
        self.host = host
        self.controller = controller
        self.driver = driver
        self.client = ControllerClient(controller.url, host, host_key, timeout=5)
        self.cache = ImageCache(data_dir / "images", self.client.open_image, 3600, free_space_margin_bytes=0)
        self.reporter = Reporter(self.client, data_dir / "outbox")
        self.journal = TaskJournal(data_dir / "tasks")
        self.watchdog = Watchdog()
        self.network = NetworkManager(host, data_dir, self.client)
        if network is not None:
            self.network.driver = LinuxNetworkDriver(
                network, data_dir, self.network.lookup, self.network.fetch_metadata
            )
        self.operations = Operations(driver, self.cache, self.client, data_dir, self.network)
        self.operations.add_handlers(MoveOperations(self.operations, host).handlers())
        self.data_dir = data_dir
        self.executor = TaskExecutor(
            host,
            [controller.public_key],
            self.operations,
            self.reporter,
            self.journal,
            self.watchdog,
        )

    def run(self, task, payload, ttl=30, **kwargs):
        """Sign a task as the controller would, execute it, return the final report."""
        envelope = signing.sign_task(
            self.controller.signing_key,
            task=task,
            task_id=kwargs.pop("task_id", None) or new_id(),
            host=kwargs.pop("host", self.host),
            payload=payload,
            expires_at=kwargs.pop("expires_at", None) or time.time() + ttl,
        )
        self.executor.execute(task, envelope)
        return self.controller.final_report(envelope["task_id"])

    def certify(self):
        """Give the host a TLS certificate from the stub controller's CA, as enrollment does."""
        request = pki.new_request(self.data_dir, self.host)
        pki.install(self.data_dir, *self.controller.ca.issue(request, self.host))


@pytest.fixture
def fake_driver():
    driver = FakeDriver()
    yield driver
    driver.release_hangs()


@pytest.fixture
def fake_agent(tmp_path, controller, fake_driver):
    return InProcessAgent(tmp_path, controller, fake_driver)


@pytest.fixture
def lab():
    """Namespaces, wires and guests of one test, all removed afterwards (see netlab.py)."""
    with Lab() as made:
        yield made


@pytest.fixture
def network_agent(lab, controller):
    """An in-process agent whose fake driver and network driver work in a lab host namespace."""
    agents = []

    def make(name="h1", **config):
        host_ns = lab.host(name)
        host = f"{lab.prefix}{name}"
        network = NetworkConfig(host=host, namespace=host_ns.name, **config)
        agent = InProcessAgent(
            lab.data_dir(name), controller, FakeDriver(network_namespace=host_ns.name), host, network
        )
        agent.netns = host_ns
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.network.close()
