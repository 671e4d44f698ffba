"""The quota commands: setquota, showquota, and recalcquota's drift report and repair."""

import pytest
from django.core.management.base import CommandError

from apps.core.actor import Actor
from apps.identity.models import User
from apps.identity.tests.commands import call, run_manage
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory
from apps.quotas import services
from apps.quotas.models import QuotaClaim, QuotaUsage


@pytest.fixture
def web(root):
    return ProjectFactory(name="web", domain=DomainFactory(name="acme"))


def corrupt(scope, resource, used):
    key = {"project": scope} if hasattr(scope, "domain_id") else {"domain": scope}
    QuotaUsage.objects.filter(resource=resource, **key).update(used=used)


def test_setquota_sets_project_domain_and_default_limits(web):
    assert call("setquota", "instances", "4", "--project", "acme:web") == "web instances limit 4 used 0\n"
    call("setquota", "vcpus", "-1", "--domain", "acme")
    call("setquota", "networks", "2", "--default")

    assert services.usage_of(web)["instances"] == (4, 0)
    assert services.usage_of(web.domain)["vcpus"] == (-1, 0)
    assert services.usage_of(ProjectFactory())["networks"] == (2, 0)


def test_showquota_lists_every_resource_with_its_usage_and_limit(web):
    services.set_limit(Actor.system(), web, "instances", 5)
    services.claim(web, {"instances": 2}, UserFactory())

    rows = [line.split() for line in call("showquota", "--project", "acme:web").splitlines()]
    domain_rows = [line.split() for line in call("showquota", "--domain", "acme").splitlines()]

    assert rows[0] == ["resource", "used", "limit"]
    assert ["instances", "2", "5"] in rows
    assert len(rows) == 1 + len(services.usage_of(web))
    assert ["instances", "2", "unlimited"] in domain_rows


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["setquota", "gpus", "1", "--project", "acme:web"], "unknown_resource: Unknown resource 'gpus'."),
        (["setquota", "instances", "-5", "--domain", "acme"], "bad_limit: "),
        (["setquota", "instances", "1", "--project", "acme"], "--project takes DOMAIN_PATH:PROJECT_NAME"),
        (["showquota", "--project", "acme:nope"], "not_found: No project 'nope' in domain 'acme'."),
        (["showquota", "--domain", "nope"], "not_found: No domain 'nope'."),
    ],
)
def test_a_refused_quota_command_raises_one_line(web, args, line):
    with pytest.raises(CommandError) as refused:
        call(*args)

    assert str(refused.value).startswith(line)
    assert "\n" not in str(refused.value)


def test_recalcquota_finds_no_drift_when_usage_matches_the_claims(web):
    services.claim(web, {"instances": 2, "ram_mb": 512}, UserFactory())

    assert call("recalcquota").splitlines() == ["0 drift(s), 0 orphan claim(s), 0 unheld claim(s) found"]


def test_recalcquota_reports_a_corrupted_usage_row_exits_1_and_fix_repairs_it(web):
    services.claim(web, {"instances": 2}, UserFactory())
    services.set_limit(Actor.system(), web, "instances", 10)
    corrupt(web, "instances", 7)
    # A domain without a limit counts nothing: its usage is the claims' (apps/quotas/services.py).
    corrupt(web.domain, "instances", 5)

    with pytest.raises(CommandError) as found:
        call("recalcquota")
    assert found.value.returncode == 1
    assert (
        str(found.value)
        == "2 drift(s), 0 orphan claim(s), 0 unheld claim(s) found; run recalcquota --fix to correct them"
    )

    printed = call("recalcquota", "--fix").splitlines()
    assert f"drift project web ({web.pk}) instances: recorded 7, expected 2" in printed
    assert f"drift domain acme ({web.domain.pk}) instances: recorded 5, expected 0" in printed
    assert printed[-1] == "2 drift(s), 0 orphan claim(s), 0 unheld claim(s) fixed"
    assert (services.usage_of(web)["instances"][1], services.usage_of(web.domain)["instances"][1]) == (2, 2)
    assert call("recalcquota").splitlines() == ["0 drift(s), 0 orphan claim(s), 0 unheld claim(s) found"]


def test_recalcquota_reports_claims_whose_holder_is_gone_and_fix_gives_them_back(web):
    kept, lost = UserFactory(), UserFactory()
    services.claim(web, {"instances": 1}, kept)
    services.claim(web, {"instances": 1}, lost)
    lost_id = lost.pk
    User.objects.filter(pk=lost_id).delete()

    with pytest.raises(CommandError, match="orphan"):
        call("recalcquota")
    printed = call("recalcquota", "--fix")

    assert f"identity.user:{lost_id} holds 1 instances but no longer exists" in printed
    assert QuotaClaim.objects.get().holder_id == str(kept.pk)
    assert services.usage_of(web)["instances"][1] == 1
    assert services.usage_of(web.domain.parent)["instances"][1] == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.processes
def test_a_real_recalcquota_process_reports_drift_on_stderr_and_exits_1(web):
    corrupt(web.domain, "vcpus", 3)

    finished = run_manage("recalcquota")

    assert finished.returncode == 1
    assert finished.stdout == f"drift domain acme ({web.domain.pk}) vcpus: recorded 3, expected 0\n"
    assert finished.stderr == (
        "CommandError: 1 drift(s), 0 orphan claim(s), 0 unheld claim(s) found;"
        " run recalcquota --fix to correct them\n"
    )
