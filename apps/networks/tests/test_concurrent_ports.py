"""Hundreds of ports made at once through two controllers: no address or MAC twice, extras refused cleanly."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.identity.tests.factories import PASSWORD
from apps.networks.models import Port, SubnetAddress
from apps.networks.services import port_records
from apps.networks.services.ports import create_port
from apps.quotas import services as quotas
from apps.quotas.recalc import recalculate

from .factories import SYSTEM, flat_network

pytestmark = pytest.mark.processes

REQUESTS = 300
CLIENTS = 16
# A /26 without its network, broadcast and gateway addresses.
POOL = 61


def test_parallel_port_creates_on_a_small_subnet_never_give_an_address_or_a_mac_twice(
    start_controller, project, member, zone
):
    network = flat_network(zone, cidr="10.90.0.0/26", shared_with=[project])
    quotas.set_limit(SYSTEM, project, "ports", -1)
    controllers = [start_controller("first"), start_controller("second")]
    token = controllers[0].login(member.username, PASSWORD, project_id=str(project.pk))

    def create(number):
        return controllers[number % 2].request(
            "POST", "/api/v1/ports/", {"network_id": str(network.pk)}, token=token
        )

    with ThreadPoolExecutor(CLIENTS) as clients:
        results = list(clients.map(create, range(REQUESTS)))

    created = [body for status, body in results if status == 201]
    refused = [
        (status, body["error"]["code"], body["error"]["details"]["network_id"])
        for status, body in results
        if status != 201
    ]
    assert len(created) == POOL
    assert Counter(refused) == {(409, "ip_addresses_exhausted", str(network.pk)): REQUESTS - POOL}
    addresses = [body["fixed_ips"][0]["ip_address"] for body in created]
    assert len(set(addresses)) == POOL
    assert len({body["mac_address"] for body in created}) == POOL
    assert Port.objects.filter(network=network).count() == POOL
    assert SubnetAddress.objects.filter(subnet__network=network, port__isnull=False).count() == POOL
    assert quotas.usage_of(project)["ports"][1] == POOL
    assert recalculate().clean


def test_a_mac_drawn_twice_is_drawn_again_and_the_constraint_refuses_the_copy(zone, project, monkeypatch):
    network = flat_network(zone, cidr="10.91.0.0/24", shared_with=[project])
    draws = iter(["fa:16:3e:00:00:07", "fa:16:3e:00:00:07", "fa:16:3e:00:00:08"])
    monkeypatch.setattr(port_records, "random_mac", lambda prefix: next(draws))
    first = create_port(SYSTEM, project, network_id=network.pk)
    second = create_port(SYSTEM, project, network_id=network.pk)
    assert (first.mac_address, second.mac_address) == ("fa:16:3e:00:00:07", "fa:16:3e:00:00:08")
