"""Each scheduler filter on its own, the per-filter counts of a refusal, and filters configured by name."""

import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.compute.scheduler.base import Filter
from apps.compute.scheduler.placement import NoValidHost, place
from apps.compute.scheduler.request import ImageTraits, PlacementRequest
from apps.infrastructure import capacity
from apps.infrastructure.capacity import Amounts
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory, ZoneFactory

SMALL = Amounts(vcpus=1, ram_mb=512, disk_gb=5)


def request_for(amounts=SMALL, **constraints):
    return PlacementRequest(consumer_id=uuid.uuid4(), amounts=amounts, **constraints)


def chosen(**constraints):
    return place(request_for(**constraints)).name


def refusal(**constraints):
    with pytest.raises(NoValidHost) as caught:
        place(request_for(**constraints), explain=True)
    return caught.value


def removed_by(error):
    return {step["filter"]: step["removed"] for step in error.details["filters"] if step["removed"]}


def release_all():
    for consumer in list(capacity.Allocation.objects.values_list("consumer_id", flat=True)):
        capacity.release(consumer)


@pytest.fixture(autouse=True)
def _give_back_claims():
    """Placements here claim capacity without an instance; give it back so the drift check holds."""
    yield
    release_all()


@pytest.mark.parametrize(
    "unusable",
    [{"state": Host.DOWN}, {"state": Host.ENROLLING}, {"enabled": False}, {"maintenance": True}],
)
def test_the_compute_filter_keeps_only_hosts_that_are_up_enabled_and_not_in_maintenance(root, unusable):
    HostFactory(name="unusable", **unusable)
    HostFactory(name="usable", ram_mb=2048)
    assert chosen() == "usable"
    Host.objects.filter(name="usable").update(enabled=False)
    assert removed_by(refusal()) == {"compute": 2}


def test_a_disabled_zone_gets_no_new_instances(root):
    HostFactory(zone=ZoneFactory(name="closed", enabled=False))
    assert removed_by(refusal()) == {"compute": 1}


def test_the_availability_zone_filter_keeps_the_asked_zone(root):
    east, west = ZoneFactory(name="east"), ZoneFactory(name="west")
    HostFactory(name="in-east", zone=east, ram_mb=64000)
    HostFactory(name="in-west", zone=west)
    assert chosen(zone_id=west.pk) == "in-west"


def test_host_tags_of_the_offering_must_all_be_on_the_host(root):
    HostFactory(name="ssd-only", tags=["ssd"], ram_mb=64000)
    HostFactory(name="ssd-gpu", tags=["gpu", "ssd"])
    assert chosen(host_tags=("ssd", "gpu")) == "ssd-gpu"
    assert removed_by(refusal(host_tags=("nvme",))) == {"host_tags": 2}


def test_the_ram_filter_uses_the_reserve_and_the_ratio_including_a_host_override(root, settings):
    settings.CLOUDMGR_RAM_ALLOCATION_RATIO = 1.5
    # (2048 - 512) * 1.5 = 2304 MB may be allocated on the default ratio, 1536 with ratio 1.0.
    HostFactory(name="overcommitted", ram_mb=2048, reserved_host_memory_mb=512)
    HostFactory(name="strict", ram_mb=2048, reserved_host_memory_mb=512, ram_allocation_ratio=1.0)
    big = Amounts(vcpus=1, ram_mb=2304, disk_gb=1)
    assert chosen(amounts=big) == "overcommitted"
    assert removed_by(refusal(amounts=Amounts(1, 1537, 1))) == {"ram": 2}


def test_the_core_filter_uses_the_cpu_ratio(root, settings):
    settings.CLOUDMGR_CPU_ALLOCATION_RATIO = 4.0
    HostFactory(name="two-cores", cpus=2)
    assert chosen(amounts=Amounts(8, 512, 1)) == "two-cores"
    assert removed_by(refusal(amounts=Amounts(1, 512, 1))) == {"cores": 1}


def test_the_disk_filter_subtracts_the_disk_reserve(root, settings):
    settings.CLOUDMGR_DISK_ALLOCATION_RATIO = 1.0
    HostFactory(name="small-disk", disk_gb=20, reserved_host_disk_mb=5 * 1024)
    assert removed_by(refusal(amounts=Amounts(1, 512, 16))) == {"disk": 1}
    assert chosen(amounts=Amounts(1, 512, 15)) == "small-disk"


def test_image_properties_need_the_architecture_and_a_hypervisor_that_runs_the_image(root):
    HostFactory(name="arm", arch="aarch64", hypervisor_type="qemu", ram_mb=64000)
    HostFactory(name="x86", arch="x86_64", hypervisor_type="QEMU")
    assert chosen(image=ImageTraits(architecture="x86_64")) == "x86"
    # KVM guests run through libvirt's QEMU driver.
    assert chosen(image=ImageTraits(architecture="x86_64", hypervisor_type="kvm")) == "x86"
    assert removed_by(refusal(image=ImageTraits(hypervisor_type="xen"))) == {"image_properties": 2}


def test_isolated_images_go_only_to_isolated_hosts_and_nothing_else_does(root):
    HostFactory(name="isolated", isolated=True, ram_mb=64000)
    HostFactory(name="shared")
    assert chosen(image=ImageTraits(isolated=True)) == "isolated"
    assert chosen() == "shared"
    Host.objects.filter(name="shared").update(enabled=False)
    assert removed_by(refusal()) == {"compute": 1, "isolated_hosts": 1}


def test_same_host_and_different_host_hints(root):
    first = HostFactory(name="first")
    HostFactory(name="second", ram_mb=64000)
    assert chosen(same_host=frozenset({first.pk})) == "first"
    assert chosen(different_host=frozenset({first.pk})) == "second"
    error = refusal(same_host=frozenset({first.pk}), different_host=frozenset({first.pk}))
    assert removed_by(error) == {"same_host": 1, "different_host": 1}


def test_cidr_affinity_keeps_hosts_whose_management_address_is_in_the_network(root):
    HostFactory(name="far", management_ip="10.1.0.5", ram_mb=64000)
    HostFactory(name="near", management_ip="10.0.0.20")
    HostFactory(name="unknown-address", management_ip=None, ram_mb=64000)
    assert chosen(near_network="10.0.0.0/24") == "near"
    assert removed_by(refusal(near_network="192.168.0.0/16")) == {"cidr_affinity": 3}


def test_affinity_keeps_the_groups_host_and_anti_affinity_avoids_it(root):
    used = HostFactory(name="used")
    HostFactory(name="other", ram_mb=64000)
    assert chosen(group_policy="affinity", group_hosts=frozenset({used.pk})) == "used"
    assert chosen(group_policy="anti-affinity", group_hosts=frozenset({used.pk})) == "other"
    # The first member of a group goes anywhere.
    assert chosen(group_policy="affinity", group_hosts=frozenset()) == "other"


def test_a_refusal_counts_what_each_filter_removed_in_order(root, settings):
    settings.CLOUDMGR_RAM_ALLOCATION_RATIO = 1.0
    HostFactory(state=Host.DOWN)
    HostFactory(maintenance=True)
    HostFactory(ram_mb=1024, reserved_host_memory_mb=512)
    HostFactory(ram_mb=1024, reserved_host_memory_mb=512)
    HostFactory(cpus=0)
    error = refusal(amounts=Amounts(1, 600, 1))
    assert error.code == "no_valid_host"
    assert error.status == 409
    assert error.details["hosts"] == 5
    assert removed_by(error) == {"compute": 2, "ram": 2, "cores": 1}
    assert error.details["filters"][-1]["remaining"] == 0
    assert error.message == "There is no capacity for this request."


class OddNamesOnly(Filter):
    """A filter with only a Python check, configured by dotted path in the test below."""

    name = "odd_names_only"

    def host_passes(self, host, request):
        return int(host.name.rsplit("-", 1)[1]) % 2 == 1


def test_python_filters_run_after_the_sql_ones_and_are_counted_too(root, settings):
    settings.CLOUDMGR_SCHEDULER_FILTERS = ["compute", f"{__name__}.OddNamesOnly"]
    for n, ram_mb in ((1, 4096), (2, 64000), (3, 8192), (4, 32000)):
        HostFactory(name=f"node-{n}", ram_mb=ram_mb)
    assert chosen() == "node-3"
    Host.objects.filter(name__in=["node-1", "node-3"]).update(maintenance=True)
    assert removed_by(refusal()) == {"compute": 2, "odd_names_only": 2}


def test_an_unknown_filter_name_is_a_configuration_error(root, settings):
    settings.CLOUDMGR_SCHEDULER_FILTERS = ["compute", "no_such_filter"]
    HostFactory()
    with pytest.raises(ImproperlyConfigured, match="no_such_filter"):
        place(request_for())


class FillsTheHostNamedBest(Filter):
    """Stands in for a concurrent request that fills the best host between the query and the claim."""

    name = "fills_the_host_named_best"

    def host_passes(self, host, request):
        if host.name == "best":
            Host.objects.filter(pk=host.pk).update(ram_mb_used=100000)
        return True


def test_a_host_filled_after_the_query_is_passed_over_for_the_next(root, settings):
    settings.CLOUDMGR_SCHEDULER_FILTERS = ["compute", "ram", f"{__name__}.FillsTheHostNamedBest"]
    HostFactory(name="best", ram_mb=64000)
    HostFactory(name="second")
    assert chosen() == "second"
    best = Host.objects.get(name="best")
    assert best.ram_mb_used == 100000
    assert not best.allocations.exists()
    Host.objects.filter(name="best").update(ram_mb_used=0)
