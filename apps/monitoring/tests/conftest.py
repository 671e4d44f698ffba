"""Fixtures of the monitoring tests: an enrolled host that signs its reports, with instances on it;
the real guest's libvirt and agent home come from compute's real-guest test."""

from datetime import UTC, datetime

import pytest

from apps.compute.tests.factories import InstanceFactory
from apps.compute.tests.test_real_guest import agent_home, domains_removed, system_libvirt  # noqa: F401
from apps.infrastructure.models import Host
from apps.infrastructure.tests.agents import SignedAgent
from apps.infrastructure.tests.conftest import signing_key  # noqa: F401  (a fixture shared with infrastructure)
from apps.monitoring import partitions
from apps.monitoring.models import RollupProgress
from apps.monitoring.tables import ALL_TABLES


@pytest.fixture(autouse=True)
def _no_samples_yet(_django_db_helper):
    """Every test starts with no sample partitions and no rollup done.

    Django empties the tables of its models after a test that commits, but the
    sample tables are SQL of their own: their rows would outlive such a test
    (e.g. one with a live server or real agents).
    """
    for table in ALL_TABLES:
        partitions.drop_before(table, datetime.max.replace(tzinfo=UTC))
    RollupProgress.objects.all().delete()


@pytest.fixture
def agent(root):
    return SignedAgent.enrolled("compute-1")


@pytest.fixture
def host(agent):
    return Host.objects.get(name=agent.name)


@pytest.fixture
def instance(host, project):
    return InstanceFactory(host=host, project=project, vcpus=2, ram_mb=2048)
