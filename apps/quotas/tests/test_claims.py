"""Quota claims in one process: limits on projects and every ancestor domain, release, defaults."""

import pytest
from django.db import transaction

from apps.core.actor import Actor
from apps.core.errors import QuotaExceeded
from apps.identity.services.projects import create_project
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, domain_chain
from apps.quotas import services
from apps.quotas.models import QuotaClaim

SYSTEM = Actor.system()


def usage(scope, resource="instances"):
    return services.usage_of(scope)[resource][1]


def deep_project(depth=5):
    return ProjectFactory(domain=domain_chain(depth)[-1])


def test_a_refused_claim_names_the_resource_the_limit_the_usage_and_the_amount(root):
    project = ProjectFactory()
    services.set_limit(SYSTEM, project, "vcpus", 4)
    services.claim(project, {"vcpus": 3}, UserFactory())

    with pytest.raises(QuotaExceeded) as refused:
        services.claim(project, {"vcpus": 2}, UserFactory())

    assert refused.value.code == "quota_exceeded"
    assert refused.value.details == {
        "resource": "vcpus",
        "scope": "project",
        "scope_id": str(project.pk),
        "scope_name": project.name,
        "limit": 4,
        "used": 3,
        "requested": 2,
    }
    assert "Quota exceeded for vcpus" in refused.value.message
    assert "limit 4, used 3, asked for 2" in refused.value.message
    assert usage(project, "vcpus") == 3


def test_a_claim_is_checked_against_every_ancestor_domain_up_to_root(root):
    project = deep_project(5)
    top = project.domain
    while top.parent_id != root.pk:
        top = top.parent
    services.set_limit(SYSTEM, top, "instances", 2)
    services.claim(project, {"instances": 2}, UserFactory())

    with pytest.raises(QuotaExceeded) as refused:
        services.claim(project, {"instances": 1}, UserFactory())

    assert (refused.value.details["scope"], refused.value.details["scope_id"]) == ("domain", str(top.pk))
    domain = project.domain
    while domain is not None:
        assert usage(domain) == 2
        domain = domain.parent


def test_a_claim_of_several_resources_takes_all_or_nothing(root):
    project = ProjectFactory()
    services.set_limit(SYSTEM, project, "ram_mb", 1024)

    with pytest.raises(QuotaExceeded):
        services.claim(project, {"instances": 1, "vcpus": 2, "ram_mb": 2048}, UserFactory())

    assert (usage(project, "instances"), usage(project, "vcpus"), usage(project, "ram_mb")) == (0, 0, 0)
    assert usage(project.domain, "instances") == 0
    assert not QuotaClaim.objects.exists()


def test_minus_one_is_unlimited_and_zero_admits_nothing(root):
    project = ProjectFactory()
    services.set_limit(SYSTEM, project, "instances", -1)
    services.claim(project, {"instances": 10_000}, UserFactory())
    services.set_limit(SYSTEM, project, "floating_ips", 0)

    with pytest.raises(QuotaExceeded):
        services.claim(project, {"floating_ips": 1}, UserFactory())
    assert usage(project) == 10_000


def test_releasing_twice_gives_back_once(root):
    project = deep_project(3)
    holder, other = UserFactory(), UserFactory()
    services.claim(project, {"instances": 1, "vcpus": 4}, holder)
    services.claim(project, {"instances": 1, "vcpus": 2}, other)

    assert services.release(holder) == {"instances": 1, "vcpus": 4}
    assert services.release(holder) == {}

    assert (usage(project), usage(project, "vcpus")) == (1, 2)
    assert (usage(project.domain.parent), usage(project.domain.parent, "vcpus")) == (1, 2)
    assert services.claimed_by(other) == {"instances": 1, "vcpus": 2}


def test_a_claim_rolls_back_with_the_transaction_that_creates_its_holder(root):
    project = ProjectFactory()

    def create_resource_that_then_fails():
        with transaction.atomic():
            services.claim(project, {"instances": 1}, UserFactory())
            raise RuntimeError("creating the resource failed")

    with pytest.raises(RuntimeError):
        create_resource_that_then_fails()

    assert usage(project) == 0
    assert usage(project.domain) == 0


def test_new_projects_start_with_the_default_limits(root):
    services.set_default_limit(SYSTEM, "instances", 3)

    project = create_project(SYSTEM, domain=DomainFactory(), name="fresh")

    assert services.usage_of(project)["instances"] == (3, 0)


def test_a_domain_counts_the_usage_of_its_whole_subtree(root):
    parent = DomainFactory()
    left, right = DomainFactory(parent=parent), DomainFactory(parent=DomainFactory(parent=parent))
    services.claim(ProjectFactory(domain=left), {"instances": 2}, UserFactory())
    services.claim(ProjectFactory(domain=right), {"instances": 3}, UserFactory())
    services.claim(ProjectFactory(domain=parent), {"instances": 1}, UserFactory())

    assert (usage(left), usage(right), usage(parent), usage(root)) == (2, 3, 6, 6)
