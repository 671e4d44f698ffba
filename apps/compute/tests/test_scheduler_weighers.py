"""Weighers: free RAM spreads or stacks with its multiplier's sign; chance picks at random; they combine."""

import uuid

import pytest

from apps.compute.scheduler.base import Filter
from apps.compute.scheduler.placement import CANDIDATES_PER_PAGE, place
from apps.compute.scheduler.request import PlacementRequest
from apps.infrastructure import capacity
from apps.infrastructure.capacity import Amounts
from apps.infrastructure.tests.factories import HostFactory

SMALL = Amounts(vcpus=1, ram_mb=512, disk_gb=1)


def chosen(amounts=SMALL):
    return place(PlacementRequest(consumer_id=uuid.uuid4(), amounts=amounts)).name


def first_choice():
    """The host a placement picks, its claim given back so every placement sees the same hosts."""
    consumer = uuid.uuid4()
    host = place(PlacementRequest(consumer_id=consumer, amounts=SMALL))
    capacity.release(consumer)
    return host.name


@pytest.fixture(autouse=True)
def _give_back_claims():
    yield
    for consumer in list(capacity.Allocation.objects.values_list("consumer_id", flat=True)):
        capacity.release(consumer)


@pytest.fixture
def three_hosts(root, settings):
    settings.CLOUDMGR_RAM_ALLOCATION_RATIO = 1.0
    for name, ram_mb in (("small", 2560), ("medium", 4608), ("large", 8704)):
        HostFactory(name=name, ram_mb=ram_mb, reserved_host_memory_mb=512)


def test_a_positive_ram_multiplier_spreads_onto_the_host_with_most_free_ram(three_hosts, settings):
    settings.CLOUDMGR_SCHEDULER_RAM_WEIGHT_MULTIPLIER = 1.0
    assert chosen() == "large"
    # large: 8192 allocatable, now 7680 free after the first; medium has 4096: large still wins.
    assert [chosen(amounts=Amounts(1, 2048, 1)) for _ in range(3)] == ["large", "large", "medium"]


def test_a_negative_ram_multiplier_stacks_onto_the_fullest_host_that_fits(three_hosts, settings):
    settings.CLOUDMGR_SCHEDULER_RAM_WEIGHT_MULTIPLIER = -1.0
    assert [chosen(amounts=Amounts(1, 1024, 1)) for _ in range(3)] == ["small", "small", "medium"]


def test_the_chance_weigher_picks_among_fitting_hosts_at_random(three_hosts, settings):
    settings.CLOUDMGR_SCHEDULER_WEIGHERS = ["chance"]
    picks = {first_choice() for n in range(40)}
    assert picks == {"small", "medium", "large"}


class OnlyTheLastHost(Filter):
    name = "only_the_last_host"

    def host_passes(self, host, request):
        return host.name == "node-39"


def test_random_pages_still_reach_every_candidate(root, settings):
    """More candidates than a page: each page is drawn from the hosts not tried yet."""
    settings.CLOUDMGR_SCHEDULER_WEIGHERS = ["chance"]
    settings.CLOUDMGR_SCHEDULER_FILTERS = ["compute", f"{__name__}.OnlyTheLastHost"]
    for n in range(40):
        HostFactory(name=f"node-{n:02d}")
    assert 2 * CANDIDATES_PER_PAGE < 40
    assert first_choice() == "node-39"


def test_combined_weighers_are_scaled_so_multipliers_compare(three_hosts, settings):
    settings.CLOUDMGR_SCHEDULER_WEIGHERS = ["ram", "chance"]
    settings.CLOUDMGR_SCHEDULER_RAM_WEIGHT_MULTIPLIER = 1000.0
    # Unscaled, RAM (thousands of MB) would swamp chance (0..1) even with a multiplier of
    # 0.0001; scaled to 0..1, a RAM multiplier of 1000 always wins and one of 0.0001 never does.
    assert {first_choice() for n in range(10)} == {"large"}
    settings.CLOUDMGR_SCHEDULER_RAM_WEIGHT_MULTIPLIER = 0.0001
    assert len({first_choice() for n in range(40)}) > 1
