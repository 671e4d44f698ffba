"""recalcquota compares the claims with the instances that exist, not only with each other.

An instance that runs without holding its quota is the worst drift there is (it
is how quota was escaped before claims lived until the delete): recalcquota
reports it, and a claim left by an instance that is gone, and `--fix` makes the
claims what the instances must hold.
"""

import pytest
from django.core.management.base import CommandError

from apps.compute import states
from apps.compute.models import Instance
from apps.identity.tests.commands import call
from apps.quotas import services as quotas

from .factories import InstanceFactory


@pytest.fixture
def instance(project, offering):
    return InstanceFactory(project=project, offering=offering)


def report():
    with pytest.raises(CommandError) as found:
        call("recalcquota")
    return str(found.value), call("recalcquota", "--fix").splitlines()


def test_a_live_instance_that_holds_no_claim_is_reported_and_fix_records_its_claims(instance, project):
    quotas.release(instance)

    summary, printed = report()

    assert "0 orphan claim(s), 3 unheld claim(s) found" in summary
    assert f"unheld claim: compute.instance:{instance.pk} holds 0 instances but should hold 1" in printed
    assert f"unheld claim: compute.instance:{instance.pk} holds 0 ram_mb but should hold 1024" in printed
    assert quotas.claimed_by(instance) == {"instances": 1, "vcpus": 1, "ram_mb": 1024}
    assert quotas.usage_of(project)["instances"][1] == 1


def test_an_instance_holding_less_than_its_size_is_reported(instance):
    quotas.release(instance)
    quotas.claim(instance.project, {"instances": 1, "vcpus": 1, "ram_mb": 16}, instance)

    _, printed = report()

    assert f"unheld claim: compute.instance:{instance.pk} holds 16 ram_mb but should hold 1024" in printed
    assert quotas.claimed_by(instance)["ram_mb"] == 1024


def test_the_claims_of_a_deleted_instance_are_orphans_and_fix_gives_them_back(instance, project):
    Instance.objects.filter(pk=instance.pk).update(vm_state=states.DELETED)

    summary, printed = report()

    assert "3 orphan claim(s), 0 unheld claim(s) found" in summary
    assert any(f"compute.instance:{instance.pk} holds 1 instances but no longer exists" in p for p in printed)
    assert quotas.claimed_by(instance) == {}
    assert quotas.usage_of(project)["instances"][1] == 0
