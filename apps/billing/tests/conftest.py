import pytest

from apps.compute.tests.factories import OfferingFactory
from apps.identity.tests.factories import DomainFactory, ProjectFactory
from apps.infrastructure.tests.conftest import signing_key  # noqa: F401  (a fixture shared with infrastructure)


@pytest.fixture
def small(db):
    return OfferingFactory(name="m1.small", vcpus=1, ram_mb=1024)


@pytest.fixture
def large(db):
    return OfferingFactory(name="m1.large", vcpus=4, ram_mb=8192)


@pytest.fixture
def places(root):
    """Two domains under ROOT, one with a sub-domain; a project in the sub-domain and one in the other."""
    east = DomainFactory(name="east")
    east_lab = DomainFactory(name="east-lab", parent=east)
    west = DomainFactory(name="west")
    return {
        "east": east,
        "east_lab": east_lab,
        "west": west,
        "lab_project": ProjectFactory(domain=east_lab, name="lab"),
        "west_project": ProjectFactory(domain=west, name="shop"),
    }
