"""Fixtures of the networks tests: a zone with a VLAN pool and a network node."""

import pytest

from apps.infrastructure.tests.factories import ZoneFactory

from .factories import network_node, vlan_pool


@pytest.fixture
def zone(root):
    return ZoneFactory(name="zone-a")


@pytest.fixture
def node(zone):
    return network_node(zone, name="netnode-1.example.test")


@pytest.fixture
def pool(zone):
    return vlan_pool(zone)
