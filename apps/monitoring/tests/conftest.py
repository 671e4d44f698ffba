"""Fixtures of the monitoring tests: an enrolled host that signs its reports, with instances on it."""

import pytest

from apps.compute.tests.factories import InstanceFactory
from apps.infrastructure.models import Host
from apps.infrastructure.tests.agents import SignedAgent
from apps.infrastructure.tests.conftest import signing_key  # noqa: F401  (a fixture shared with infrastructure)


@pytest.fixture
def agent(root):
    return SignedAgent.enrolled("compute-1")


@pytest.fixture
def host(agent):
    return Host.objects.get(name=agent.name)


@pytest.fixture
def instance(host, project):
    return InstanceFactory(host=host, project=project, vcpus=2, ram_mb=2048)
