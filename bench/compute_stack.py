"""A whole compute stack for the compute benches: throwaway PostgreSQL, a real controller, real agents.

`ComputeStack` starts a throwaway cluster with pg_stat_statements
(bench/pgcluster.py), migrates and bootstraps it (bench/api_auth.py's helpers),
builds a domain chain of the asked depth with one project and one member at
its end, a demo qcow2 image and a small offering, and optionally `filler`
hosts (full: the scheduler has to pass over every one of them) carrying
`filler` active instances spread over filler projects. Then it starts the
controller (`manage.py runcontroller`, no job workers, no periodic ticks) and
real agent processes (`python -m agent run` on libvirt's test:///default, the
end-to-end tests' AgentProcess) enrolled with it over HTTP, with Redis as the
broker. The member's token drives the API. `fill_to(n)` grows the cloud to n
full hosts (the scheduler has to pass over every one of them) carrying n active
instances spread over projects in the domain chain.

With `network=True`, the agents' network driver works in a network namespace of
the stack's own (removed at the end, with the dnsmasq it ran), the first agent's
host is the zone's network node carrying `physnet1`, a flat-DHCP network on it is
shared with the measured project, every create asks for one NIC there, and each
filler instance has a NIC on it too (so its DHCP server serves them all).
"""

import os
import secrets
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import api_auth
import common  # noqa: F401  (puts the repository on sys.path)
from pgcluster import Cluster

from apps.core.tests.controllers import READY_TIMEOUT_SECONDS

BATCH = 2000
# One port per filler instance (device 0, on its host), each taking the subnet's next free address.
_FILLER_PORTS_SQL = """
WITH made AS (
    INSERT INTO networks_port (id, name, network_id, project_id, mac_address, device_owner, instance_id,
                               host_id, hostname, delete_with_instance, device_index, created_at)
    SELECT gen_random_uuid(), '', %(network)s, i.project_id,
           ('02fe' || lpad(to_hex(row_number() OVER () + (SELECT count(*) FROM networks_port)), 8, '0'))
               ::macaddr,
           'compute', i.id, f.host_id, '', true, 0, now()
      FROM unnest(%(instances)s::uuid[], %(hosts)s::uuid[]) AS f(instance_id, host_id)
      JOIN compute_instance i ON i.id = f.instance_id
    RETURNING id
), numbered_ports AS (
    SELECT id, row_number() OVER () AS n FROM made
), numbered_addresses AS (
    SELECT id, row_number() OVER (ORDER BY address) AS n FROM networks_subnetaddress
     WHERE subnet_id = %(subnet)s AND port_id IS NULL AND in_pool
)
UPDATE networks_subnetaddress a SET port_id = p.id
  FROM numbered_addresses s JOIN numbered_ports p USING (n)
 WHERE a.id = s.id
"""
OFFERING = {"name": "bench.tiny", "vcpus": 1, "ram_mb": 64, "root_disk_gb": 1}


class ComputeStack:
    def __init__(self, *, depth, agents, agent_settings=None, network=False):
        self.depth, self.agent_count, self.filled = depth, agents, 0
        self.agent_settings = agent_settings or {}
        self.network, self.netns = None, None
        if network:
            from agent.network.commands import Netns

            self.netns = Netns(f"cmbench{secrets.token_hex(3)}")
        self.workdir = Path(tempfile.mkdtemp(prefix="cloudmgr-bench-compute-"))
        self.cluster = self.controller = None
        self.agents = []

    # --- life cycle ---------------------------------------------------------------------------

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for agent in self.agents:
            agent.stop()
        if self.netns is not None:
            self._remove_networking()
        if self.controller is not None:
            self.controller.stop()
        if self.cluster is not None:
            self.cluster.stop()
        # The agents' data directories hold disks of a gigabyte and more (bench/migration.py).
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _start(self):
        from agent import signing

        self.cluster = Cluster().start()
        self.cluster.create_database(api_auth.DATABASE, stat_statements=True)
        secret_key = os.environ.get("CLOUDMGR_SECRET_KEY") or secrets.token_urlsafe(40)
        os.environ["CLOUDMGR_IMAGE_STORE_DIR"] = str(self.workdir / "images")
        os.environ["CLOUDMGR_TASK_SIGNING_KEY"] = signing.private_key_to_pem(
            signing.generate_private_key()
        ).decode()
        self.cluster.setup_django(api_auth.DATABASE, secret_key)
        root = api_auth.migrate_and_bootstrap()
        self._populate(root)
        self.controller = api_auth.controller_for(self.cluster, secret_key, self.workdir / "controller.log")
        self.controller.wait_ready()
        self.url = f"http://127.0.0.1:{self.controller.port}"
        self._start_agents()
        if self.netns is not None:
            self._make_network()
        self.client = api_auth.Client(self.controller.port)
        status, body = self.client.json(
            "POST",
            "/api/v1/auth/tokens/",
            {"username": self.username, "password": self.password, "project_id": str(self.project.pk)},
        )
        if status != 201:
            raise SystemExit(f"login failed: {status} {body}")
        self.headers = {"Authorization": f"Bearer {body['token']}"}

    # --- the cloud ----------------------------------------------------------------------------

    def _populate(self, root):
        from django.contrib.auth.hashers import make_password

        from agent.tests.builders import qcow2_bytes
        from apps.compute.models import ServiceOffering
        from apps.core.actor import Actor
        from apps.core.policy import PROJECT_MEMBER
        from apps.identity.models import Project, Role, RoleAssignment, User
        from apps.images.tests.factories import active_image
        from apps.infrastructure.models import Zone
        from apps.quotas.services import ensure_rows

        levels = api_auth.build_domains(root, self.depth, 1)
        leaf = levels[-1][0]
        self.project = Project.objects.create(domain=leaf, name="bench-project")
        ensure_rows(domain_ids=[d.pk for level in levels for d in level], project_ids=[self.project.pk])
        self.username, self.password = "bench-member", secrets.token_urlsafe(16)
        # The controller checks passwords with the real hasher, not the bulk one.
        password_hash = make_password(self.password, hasher="pbkdf2_sha256")
        user = User.objects.create(username=self.username, password=password_hash, domain=leaf)
        RoleAssignment.objects.create(
            user=user, role=Role.objects.get(name=PROJECT_MEMBER), project=self.project
        )
        self._raise_quotas()
        self.zone = Zone.objects.create(name="zone-bench")
        self.offering = ServiceOffering.objects.create(public=True, **OFFERING)
        self.image = active_image(
            self.project, name="bench-qcow2", disk_format="qcow2", content=qcow2_bytes(self.workdir)
        )
        self.system = Actor.system("bench")
        self.domains = [d for level in levels[1:] for d in level]

    def _raise_quotas(self):
        from apps.quotas.models import UNLIMITED, QuotaUsage

        QuotaUsage.objects.filter(project=self.project).update(limit=UNLIMITED)
        QuotaUsage.objects.filter(domain__isnull=False).update(limit=UNLIMITED)

    def fill_to(self, count):
        """Grow to `count` full hosts in the agents' zone and `count` active instances on them."""
        from django.db import connection
        from django.utils import timezone

        from apps.compute.models import Instance
        from apps.identity.models import Project
        from apps.infrastructure.capacity import refresh_limits
        from apps.infrastructure.models import Host

        now = timezone.now()
        hosts = [
            Host(
                name=f"filler-{n:06d}",
                zone=self.zone,
                state=Host.UP,
                cpus=32,
                ram_mb=131072,
                disk_gb=2000,
                hypervisor_type="qemu",
                arch="x86_64",
                protocol_version=1,
                last_heartbeat_at=now,
                vcpus_used=32 * 16,
                ram_mb_used=int(131072 * 1.5),
                disk_gb_used=2000,
            )
            for n in range(self.filled, count)
        ]
        Host.objects.bulk_create(hosts, batch_size=BATCH)
        refresh_limits()
        domains = self.domains
        projects = [
            Project(domain=domains[n % len(domains)], name=f"filler-{n}")
            for n in range(self.filled, count, 10)
        ]
        Project.objects.bulk_create(projects, batch_size=BATCH)
        fillers = Instance.objects.bulk_create(
            [
                Instance(
                    name=f"filler-{n}",
                    project=projects[(n - self.filled) % len(projects)],
                    offering=self.offering,
                    image=self.image,
                    zone=self.zone,
                    host=hosts[n - self.filled],
                    vm_state="active",
                    power_state="running",
                    vcpus=1,
                    ram_mb=64,
                    root_disk_gb=1,
                    launched_at=now,
                )
                for n in range(self.filled, count)
            ],
            batch_size=BATCH,
        )
        if self.network is not None:
            self._fill_ports(fillers)
        self.filled = count
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def _start_agents(self):
        from apps.compute.tests.agent_processes import AgentProcess
        from apps.infrastructure.models import Host

        settings = dict(self.agent_settings)
        if self.netns is not None:
            self.netns.create()
            settings.update(network_driver="linux", network_namespace=self.netns.name)
        for _ in range(self.agent_count):
            self.agents.append(
                AgentProcess(
                    self.system,
                    f"bench-{uuid.uuid4().hex[:10]}",
                    self.zone,
                    self.url,
                    self.workdir,
                    **settings,
                )
            )
        names = [a.name for a in self.agents]
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while Host.objects.filter(name__in=names, state=Host.UP).count() < len(names):
            if time.monotonic() > deadline:
                raise SystemExit(
                    "the agents did not heartbeat:\n" + "\n".join(a.log()[-2000:] for a in self.agents)
                )
            time.sleep(0.2)

    # --- networking ---------------------------------------------------------------------------

    def _make_network(self):
        from apps.infrastructure.models import Host
        from apps.networks.models import Network
        from apps.networks.services import host_networks, networks, subnets

        node = Host.objects.get(name=self.agents[0].name)
        host_networks.set_host_network(
            self.system, node, network_node=True, physical_networks={"physnet1": "eth1"}
        )
        self.network = networks.create_network(
            self.system,
            name="bench-flat-dhcp",
            zone=self.zone,
            network_type=Network.FLAT_DHCP,
            physical_network="physnet1",
            shared_with=[self.project],
        )
        subnets.create_subnet(self.system, self.network, cidr="10.64.0.0/16")

    def _fill_ports(self, instances):
        """A NIC for each filler instance on the bench network, in bulk (its address the pool's next)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                _FILLER_PORTS_SQL,
                {
                    "network": self.network.pk,
                    "instances": [i.pk for i in instances],
                    "hosts": [i.host_id for i in instances],
                    "subnet": self.network.subnets.get().pk,
                },
            )

    def _remove_networking(self):
        from agent.network.commands import Netns, namespaces
        from agent.tests.netlab import pids_mentioning

        for pid in pids_mentioning(f"{self.workdir}/"):
            os.kill(pid, signal.SIGKILL)
        for name in namespaces():
            if name.startswith(self.netns.name):
                Netns(name).delete()

    # --- the API ------------------------------------------------------------------------------

    def create(self, name, client=None):
        """POST /api/v1/instances/ (on `client` or the stack's connection); returns instance, job ids."""
        body = {"name": name, "offering_id": str(self.offering.pk), "image_id": str(self.image.pk)}
        if self.network is not None:
            body["networks"] = [{"network_id": str(self.network.pk)}]
        status, body = (client or self.client).json("POST", "/api/v1/instances/", body, self.headers)
        if status != 202:
            raise SystemExit(f"create refused: {status} {body}")
        return body["id"], body["job_id"]
