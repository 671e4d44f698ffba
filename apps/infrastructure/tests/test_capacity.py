"""Host capacity claims: limits are (total - reserve) * ratio, checked and taken in one UPDATE."""

import uuid

import pytest

from apps.infrastructure import capacity
from apps.infrastructure.capacity import Amounts
from apps.infrastructure.models import Allocation, Host
from apps.infrastructure.periodic import refresh_host_limits

from .factories import HostFactory


def claim(host, vcpus=1, ram_mb=0, disk_gb=0):
    return capacity.claim(host.pk, uuid.uuid4(), Amounts(vcpus, ram_mb, disk_gb))


def test_ram_can_be_claimed_up_to_the_reserve_times_the_ratio_and_not_one_mb_more(root, settings):
    settings.CLOUDMGR_RAM_ALLOCATION_RATIO = 1.5
    host = HostFactory(ram_mb=4096, reserved_host_memory_mb=1024)
    # (4096 - 1024) * 1.5 = 4608
    assert claim(host, ram_mb=4000)
    assert claim(host, ram_mb=608)
    assert not claim(host, ram_mb=1)
    host.refresh_from_db()
    assert host.ram_mb_used == 4608


def test_cores_follow_the_cpu_ratio_and_a_host_override_wins(root, settings):
    settings.CLOUDMGR_CPU_ALLOCATION_RATIO = 16.0
    host = HostFactory(cpus=2, cpu_allocation_ratio=2.0)
    assert claim(host, vcpus=4)
    assert not claim(host, vcpus=1)


def test_disk_subtracts_the_reserve_in_mb_before_the_ratio(root, settings):
    settings.CLOUDMGR_DISK_ALLOCATION_RATIO = 1.0
    host = HostFactory(disk_gb=100, reserved_host_disk_mb=10 * 1024)
    assert claim(host, disk_gb=90)
    assert not claim(host, disk_gb=1)


@pytest.mark.parametrize(
    "change", [{"enabled": False}, {"maintenance": True}, {"state": Host.DOWN}, {"state": Host.ENROLLING}]
)
def test_no_capacity_is_claimed_on_a_host_that_may_not_take_instances(root, change):
    host = HostFactory(**change)
    assert not claim(host, vcpus=1, ram_mb=1)
    assert not Allocation.objects.exists()


def test_a_release_gives_back_exactly_what_was_held_and_only_once(root):
    host = HostFactory()
    consumer = uuid.uuid4()
    assert capacity.claim(host.pk, consumer, Amounts(2, 2048, 20))
    assert claim(host, vcpus=1, ram_mb=512, disk_gb=5)
    assert capacity.release(consumer) == 1
    assert capacity.release(consumer) == 0
    host.refresh_from_db()
    assert (host.vcpus_used, host.ram_mb_used, host.disk_gb_used) == (1, 512, 5)


def test_the_displayed_limits_match_what_a_claim_allows(root):
    host = HostFactory(cpus=3, ram_mb=3000, disk_gb=7, reserved_host_memory_mb=100, ram_allocation_ratio=1.3)
    limits = capacity.limits_of(host)
    assert claim(host, vcpus=limits.vcpus, ram_mb=limits.ram_mb, disk_gb=limits.disk_gb)
    for extra in (Amounts(1, 0, 0), Amounts(0, 1, 0), Amounts(0, 0, 1)):
        assert not capacity.claim(host.pk, uuid.uuid4(), extra)


def test_a_changed_default_ratio_reaches_hosts_at_the_periodic_refresh_but_not_overrides(root, settings):
    settings.CLOUDMGR_CPU_ALLOCATION_RATIO = 16.0
    default = HostFactory(cpus=4)
    overridden = HostFactory(cpus=4, cpu_allocation_ratio=2.0)
    settings.CLOUDMGR_CPU_ALLOCATION_RATIO = 4.0
    assert refresh_host_limits() == 1
    assert refresh_host_limits() == 0
    default.refresh_from_db()
    overridden.refresh_from_db()
    assert (default.vcpus_limit, overridden.vcpus_limit) == (16, 8)
