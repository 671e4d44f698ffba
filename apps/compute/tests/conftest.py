"""Fixtures of the compute tests: a tenant with an image and an offering, hosts, and no drift afterwards.

After every test, `recalcquota` must find nothing (every live instance and
image holds its claims, no claim outlives its holder, usage matches the claims)
and each host's *_used columns must equal the sum of its allocations.
"""

import pytest
from django.db.models import Sum

from apps.identity.tests.factories import ProjectFactory
from apps.images.models import Image
from apps.images.tests.factories import active_image
from apps.infrastructure.models import Host
from apps.infrastructure.tests.conftest import host_ca, signing_key  # noqa: F401  (fixtures shared with infrastructure)
from apps.infrastructure.tests.factories import ZoneFactory
from apps.quotas.recalc import recalculate

from .agent_processes import stop_all
from .factories import OfferingFactory
from .moving import start_agents


@pytest.fixture(autouse=True)
def _image_store(settings, tmp_path):
    settings.CLOUDMGR_IMAGE_STORE_DIR = str(tmp_path / "image-store")


def allocation_drift():
    """Hosts whose *_used columns differ from the sum of their allocations."""
    drift = []
    for host in Host.objects.annotate(
        vcpus=Sum("allocations__vcpus"), ram=Sum("allocations__ram_mb"), disk=Sum("allocations__disk_gb")
    ):
        held = (host.vcpus or 0, host.ram or 0, host.disk or 0)
        if held != (host.vcpus_used, host.ram_mb_used, host.disk_gb_used):
            drift.append((host.name, held, (host.vcpus_used, host.ram_mb_used, host.disk_gb_used)))
    return drift


@pytest.fixture(autouse=True)
def _no_drift(_django_db_helper):
    yield
    found = recalculate()
    assert found.clean, f"quota drift after the test: {found}"
    assert not allocation_drift(), f"host allocation drift after the test: {allocation_drift()}"


@pytest.fixture
def cloud(live_server, tmp_path, signing_key, host_ca, root):  # noqa: F811 (fixtures of this conftest)
    """cloud(count, **agent_settings): agents of the live server with TLS certificates from its CA, for
    the tests of moves (apps/compute/tests/moving.py); stopped at teardown."""
    zone = ZoneFactory(name="zone-a")
    started = []

    def start(count, **agent_settings):
        agents = start_agents(live_server.url, tmp_path, zone, count, **agent_settings)
        started.extend(agents)
        return agents

    yield start
    stop_all(started)


@pytest.fixture
def zone(root):
    return ZoneFactory(name="zone-a")


@pytest.fixture
def offering(root):
    return OfferingFactory(name="m1.small", vcpus=1, ram_mb=1024, root_disk_gb=10)


@pytest.fixture
def image(project):
    return active_image(project, name="debian", disk_format="raw")


@pytest.fixture
def public_image(root):
    return active_image(ProjectFactory(), name="public-debian", disk_format="raw", visibility=Image.PUBLIC)
