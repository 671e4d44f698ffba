"""The agent process: recovery first, then a Celery worker on the host's own queue, the housekeeping
thread, and the servers other hosts reach for moves.

Before anything else the agent asks the controller what its guests should be
doing (agent.recovery): it starts no guest and takes no task until it knows,
nor while its host is fenced. The worker consumes only ``host.<name>`` with a
thread pool (every thread shares the driver's one libvirt connection),
acknowledges a task only after it ran (acks_late) and keeps no results in
Celery: outcomes go to the controller as signed reports. One Celery task is
registered per protocol task name; each hands its envelope to the TaskExecutor.
"""

import logging

from celery import Celery

from . import pki, protocol, signing
from .controller_client import ControllerClient
from .drivers.fake import FakeDriver, parse_faults
from .enroll import load_host_key
from .executor import TaskExecutor
from .heartbeat import Housekeeper, MoveEndpoints
from .host_stats import HostStats
from .image_cache import ImageCache
from .journal import TaskJournal
from .metrics_reporter import MetricsReporter
from .migration_gateway import MigrationGateway
from .moves import MoveOperations
from .network.base import NoNetworkDriver
from .network.manager import NetworkManager, NetworkWatch
from .network.plan import NetworkConfig
from .operations import Operations
from .prometheus_exporter import start_exporter
from .recovery import Recovery
from .reporter import Reporter
from .sampler import Sampler
from .settings import listen_address
from .transfer import TransferServer
from .watchdog import Watchdog

log = logging.getLogger(__name__)

FAKE_FAULTS_FILE = "fake-faults.json"


class SettingsError(Exception):
    pass


def make_driver(settings):
    if settings.driver == "fake":
        return FakeDriver(
            parse_faults(settings.fake_faults),
            faults_file=settings.data_dir / FAKE_FAULTS_FILE,
            fabric_dir=settings.fake_fabric_dir or settings.data_dir / "fake-fabric",
            network_namespace=settings.network_namespace,
        )
    if settings.driver == "libvirt":
        from .drivers.libvirt_driver import LibvirtDriver  # libvirt is only needed by this driver

        pki_dir = pki.pki_dir(settings.data_dir) if pki.has_certificate(settings.data_dir) else None
        return LibvirtDriver(settings.libvirt_uri, settings.domain_type, pki_dir=pki_dir)
    raise SettingsError(f"unknown driver {settings.driver!r} (libvirt or fake)")


def make_network(settings, client):
    manager = NetworkManager(settings.host, settings.data_dir, client)
    if settings.network_driver == "none":
        manager.driver = NoNetworkDriver()
    elif settings.network_driver == "linux":
        from .network.linux import LinuxNetworkDriver

        config = NetworkConfig(
            host=settings.host,
            namespace=settings.network_namespace,
            physical_interfaces=dict(settings.physical_interfaces),
            trunk_interface=settings.trunk_interface,
            network_node=settings.network_node,
        )
        manager.driver = LinuxNetworkDriver(config, settings.data_dir, manager.lookup, manager.fetch_metadata)
    else:
        raise SettingsError(f"unknown network driver {settings.network_driver!r} (linux or none)")
    return manager


class Agent:
    """Everything one agent process holds, wired together."""

    def __init__(self, settings):
        for name in ("host", "controller_url", "controller_public_keys", "broker_url"):
            if not getattr(settings, name):
                raise SettingsError(
                    f"the agent needs {name} (setting CLOUDMGR_AGENT_{name.upper()} or enroll)"
                )
        if not protocol.is_host_name(settings.host):
            raise SettingsError(f"{settings.host!r} is not a valid host name")
        self.settings = settings
        data_dir = settings.data_dir
        self.client = ControllerClient(settings.controller_url, settings.host, load_host_key(data_dir))
        self.driver = make_driver(settings)
        self.cache = ImageCache(
            data_dir / "images", self.client.open_image, settings.image_cache_max_age_seconds
        )
        self.reporter = Reporter(self.client, data_dir / "outbox")
        self.journal = TaskJournal(data_dir / "tasks")
        self.watchdog = Watchdog()
        self.network = make_network(settings, self.client)
        self.network_watch = NetworkWatch(
            self.network, settings.network_audit_seconds, settings.dhcp_check_seconds
        )
        self.operations = Operations(self.driver, self.cache, self.client, data_dir, self.network)
        self.transfers = self.gateway = None
        if pki.has_certificate(data_dir):
            public_keys = [signing.load_public_key(key) for key in settings.controller_public_keys]
            self.transfers = TransferServer(
                data_dir, settings.host, public_keys, listen_address(settings.transfer_listen)
            )
            if self.driver.supports_live_migration:
                self.gateway = MigrationGateway(
                    data_dir,
                    listen_address(settings.migration_gateway_listen),
                    settings.libvirt_socket,
                    settings.migration_relay_user or None,
                )
        self.operations.add_handlers(MoveOperations(self.operations, settings.host, self.gateway).handlers())
        self.recovery = Recovery(self.client, self.driver, self.operations, settings.host)
        self.executor = TaskExecutor(
            settings.host,
            [signing.load_public_key(key) for key in settings.controller_public_keys],
            self.operations,
            self.reporter,
            self.journal,
            self.watchdog,
        )
        self.housekeeper = Housekeeper(
            settings, self.driver, self.cache, self.client, self.reporter, self.journal, self.watchdog
        )
        self.housekeeper.on_answer = self.heard
        self.housekeeper.moves = MoveEndpoints(
            transfer_port=self.transfers.port if self.transfers else 0,
            migration_gateway_port=self.gateway.port if self.gateway else 0,
            live_migration=self.gateway is not None,
        )
        self.sampler = Sampler(settings.host, HostStats(data_dir, settings.metrics_interfaces), self.driver)
        self.metrics_reporter = MetricsReporter(settings, self.sampler, self.client)

    def recover(self, answer):
        """Apply the controller's recovery answer; a fenced host takes no task until it is unfenced."""
        if answer.fenced:
            self.executor.taking_tasks.clear()
        self.recovery.apply(answer)
        if not answer.fenced:
            self.executor.taking_tasks.set()

    def heard(self, heartbeat_answer):
        """A heartbeat's answer: fenced while working (a host cut off that comes back) destroys the guests
        and stops the tasks; returned to service while stopped asks what to restore, then takes tasks."""
        if heartbeat_answer.fenced:
            if self.executor.taking_tasks.is_set():
                log.warning("the controller says this host is fenced")
            self.recover(protocol.Recovery(fenced=True))
        elif not self.executor.taking_tasks.is_set():
            answer = self.recovery.ask()
            if answer is not None:
                self.recover(answer)

    def start_monitoring(self):
        """The sampling thread, and the Prometheus exporter when it is asked for."""
        if self.settings.metrics_seconds <= 0:
            return
        self.metrics_reporter.start()
        if self.settings.prometheus_listen:
            start_exporter(self.settings.prometheus_listen, self.sampler)


def create_app(agent):
    settings = agent.settings
    app = Celery("cloudmgr-agent", set_as_current=False)
    app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_seconds},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        accept_content=["json"],
        task_serializer="json",
        task_default_queue=settings.queue,
        worker_hijack_root_logger=False,
        # Every host can write to the broker: remote control would let any of them shut down,
        # or add queues to, every agent. No command reaches an agent but a signed task.
        worker_enable_remote_control=False,
    )
    for name in protocol.TASK_NAMES:
        app.task(name=name, acks_late=True, ignore_result=True)(_task_body(agent.executor, name))
    return app


def _task_body(executor, name):
    def body(*args, **kwargs):
        if len(args) != 1 or kwargs:
            log.warning("refused a %s task: not a single envelope argument", name)
            return {"refused": "malformed"}
        return executor.execute(name, args[0])

    body.__name__ = name.rsplit(".", 1)[-1]
    return body


def run(settings):
    agent = Agent(settings)
    app = create_app(agent)
    log.info(
        "agent %s: queue %s, driver %s, libvirt %s, data %s",
        settings.host,
        settings.queue,
        settings.driver,
        settings.libvirt_uri,
        settings.data_dir,
    )
    answer = agent.recovery.ask()
    if answer is None:
        return
    agent.recover(answer)
    for server in (agent.transfers, agent.gateway):
        if server is not None:
            server.start()
    agent.housekeeper.start()
    agent.network_watch.start()
    agent.start_monitoring()
    try:
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={settings.concurrency}",
                f"--queues={settings.queue}",
                f"--hostname=cloudmgr-agent@{settings.host}",
                f"--loglevel={settings.log_level}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        agent.housekeeper.stopping.set()
        for server in (agent.transfers, agent.gateway):
            if server is not None:
                server.close()
        agent.network_watch.stopping.set()
        agent.network.close()
        agent.metrics_reporter.stopping.set()
        agent.driver.close()
