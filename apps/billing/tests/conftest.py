import pytest

from apps.compute.tests.factories import OfferingFactory


@pytest.fixture
def small(db):
    return OfferingFactory(name="m1.small", vcpus=1, ram_mb=1024)


@pytest.fixture
def large(db):
    return OfferingFactory(name="m1.large", vcpus=4, ram_mb=8192)
