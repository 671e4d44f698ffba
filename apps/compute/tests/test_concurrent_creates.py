"""Parallel creates from separate processes never over-allocate a host, exceed a quota or break a group."""

from collections import Counter

import pytest
from django.db import connection

from apps.compute.models import Instance
from apps.core.actor import Actor
from apps.core.tests.controllers import database_url
from apps.infrastructure import capacity
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs.models import Job
from apps.quotas import services as quotas

from .factories import AffinityGroupFactory
from .race import compute_racers, create_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

RACERS = 12


@pytest.fixture(scope="module")
def racer_pool(django_db_setup, django_db_blocker):
    """Started once for the module: each racer is a whole interpreter and costs a second to start."""
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    with compute_racers(RACERS, url) as started:
        yield started


@pytest.fixture
def racers(root, racer_pool):
    return racer_pool


def outcomes(results):
    return Counter("created" if r["ok"] else r["code"] for r in results)


def test_parallel_creates_on_few_hosts_fill_them_exactly_to_their_limits(
    racers, member, project, offering, image
):
    # Room for exactly two 1024 MB instances per host: (2560 - 512) * 1.0 = 2048. The ratio is
    # each host's own (the racers are other processes: the test's settings do not reach them).
    hosts = [
        HostFactory(name=f"node-{n}", ram_mb=2560, reserved_host_memory_mb=512, ram_allocation_ratio=1.0)
        for n in range(3)
    ]

    results = racers.run([create_job(member, project, offering, image)] * RACERS, connection).outcomes

    assert outcomes(results) == {"created": 6, "no_valid_host": RACERS - 6}
    for host in Host.objects.filter(pk__in=[h.pk for h in hosts]):
        assert host.ram_mb_used == 2048 == capacity.limits_of(host).ram_mb
        assert host.allocations.count() == 2
    assert Instance.objects.count() == 6
    assert quotas.usage_of(project)["instances"][1] == 6


def test_parallel_creates_at_a_quota_limit_get_exactly_the_limit(racers, member, project, offering, image):
    for n in range(4):
        HostFactory(name=f"big-{n}", ram_mb=65536)
    quotas.set_limit(Actor.system("test"), project, "instances", 5)

    results = racers.run([create_job(member, project, offering, image)] * RACERS, connection).outcomes

    assert outcomes(results) == {"created": 5, "quota_exceeded": RACERS - 5}
    assert Instance.objects.count() == 5
    # The broker was unreachable: the creates stand, their spawn jobs wait for the periodic dispatcher.
    assert Job.objects.filter(kind="compute.instance.spawn", dispatched_at__isnull=True).count() == 5
    assert quotas.usage_of(project)["instances"][1] == 5
    assert sum(h.ram_mb_used for h in Host.objects.all()) == 5 * offering.ram_mb


def test_parallel_creates_in_an_anti_affinity_group_get_one_host_each(
    racers, member, project, offering, image
):
    for n in range(4):
        HostFactory(name=f"rack-{n}", ram_mb=65536)
    group = AffinityGroupFactory(project=project, policy="anti-affinity")

    job = create_job(member, project, offering, image, affinity_group_id=str(group.pk))
    results = racers.run([job] * RACERS, connection).outcomes

    assert outcomes(results) == {"created": 4, "no_valid_host": RACERS - 4}
    assert len({r["host"] for r in results if r["ok"]}) == 4
