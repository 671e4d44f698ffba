"""Quota claims under real concurrency: separate processes on the test's PostgreSQL database.

The holders are user rows, one per claim, created in the claim's transaction (the
foundation has no resource models yet; race.py explains the choice).
"""

import pytest
from django.db import connection, transaction

from apps.core.actor import Actor
from apps.core.tests.controllers import database_url
from apps.identity.models import Domain, Project, User
from apps.identity.services.projects import move_project
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, domain_chain
from apps.quotas import services
from apps.quotas.models import QuotaClaim, QuotaUsage
from apps.quotas.recalc import recalculate

from .race import (
    claim_job,
    delete_project_job,
    quota_racers,
    recalculate_job,
    release_job,
    set_domain_limit_job,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

RACERS = 24


def used(scope, resource="instances"):
    """The usage of a project or domain: counted where there is a limit, the claims' sum elsewhere."""
    return services.usage_of(scope)[resource][1]


def assert_refusals_name_the_limit(result, limit, scope_id):
    for refusal in result.refusals:
        details = refusal["details"]
        assert details["resource"] == "instances"
        assert (details["limit"], details["used"], details["requested"]) == (limit, limit, 1)
        assert details["scope_id"] == str(scope_id)


@pytest.fixture(scope="module")
def racer_pool(django_db_setup, django_db_blocker):
    """Started once for the module: each racer is a whole interpreter and costs a second to start."""
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    with quota_racers(RACERS, url) as started:
        yield started


@pytest.fixture
def racers(root, racer_pool):
    return racer_pool


def test_many_processes_claiming_at_a_project_limit_get_exactly_the_limit(racers):
    project = ProjectFactory(domain=domain_chain(5)[-1])
    services.set_limit(Actor.system(), project, "instances", 7)

    result = racers.run([claim_job(project.pk, {"instances": 1})] * RACERS, connection)

    assert result.unexpected == []
    assert (len(result.successes), len(result.refusals)) == (7, RACERS - 7)
    assert_refusals_name_the_limit(result, 7, project.pk)
    assert used(project) == 7
    assert QuotaClaim.objects.count() == User.objects.filter(username__startswith="racer-").count() == 7
    assert recalculate().clean


def test_two_projects_racing_under_an_ancestor_domain_limit_share_it_exactly(racers):
    chain = domain_chain(5)
    limited = chain[1]
    sibling = DomainFactory(parent=chain[3])
    first, second = ProjectFactory(domain=chain[-1]), ProjectFactory(domain=sibling)
    assert (first.domain.depth, second.domain.depth) == (5, 5)
    services.set_limit(Actor.system(), limited, "instances", 9)
    jobs = [claim_job(project.pk, {"instances": 1}) for project in (first, second)] * (RACERS // 2)

    result = racers.run(jobs, connection)

    assert result.unexpected == []
    assert (len(result.successes), len(result.refusals)) == (9, RACERS - 9)
    assert_refusals_name_the_limit(result, 9, limited.pk)
    assert used(first) + used(second) == 9
    for domain in chain[:4]:
        assert used(domain) == 9
    assert used(chain[-1]) == used(first)
    assert used(sibling) == used(second)
    assert recalculate().clean


def test_releases_claims_and_recalculation_racing_never_deadlock_and_release_once(racers):
    project = ProjectFactory(domain=domain_chain(5)[-1])
    services.set_limit(Actor.system(), project, "instances", 8)
    held = racers.run([claim_job(project.pk, {"instances": 1})] * 8, connection).holders
    assert len(held) == 8
    # Six holders each released twice at once, recalcquota with and without --fix, and
    # fresh claims competing for the room the releases free.
    jobs = [release_job(holder) for holder in held[:6]] * 2
    jobs += [recalculate_job(fix=True), recalculate_job(fix=False)]
    jobs += [claim_job(project.pk, {"instances": 1})] * (RACERS - len(jobs))

    result = racers.run(jobs, connection)

    assert result.unexpected == []
    releases = [o["released"] for o in result.outcomes[:12] if o["released"]]
    assert releases == [{"instances": 1}] * 6
    assert [(o["drifts"], o["orphans"]) for o in result.outcomes[12:14]] == [(0, 0), (0, 0)]
    claimed = len(result.holders)
    assert used(project) == 8 - 6 + claimed <= 8
    assert QuotaClaim.objects.count() == used(project)
    assert recalculate().clean


def test_a_claim_waiting_for_a_project_move_counts_against_the_new_domains(root, racers):
    old_chain, new_chain = domain_chain(5), domain_chain(5)
    project = ProjectFactory(domain=old_chain[-1])
    services.set_limit(Actor.system(), new_chain[2], "instances", 1)
    with transaction.atomic():
        move_project(Actor.system(), project, new_chain[-1])
        racers.start([claim_job(project.pk, {"instances": 1})], connection)
        racers.wait_until_blocked(connection, 1)
    result = racers.collect()

    assert result.unexpected == []
    assert len(result.successes) == 1
    assert [used(d) for d in new_chain] == [1] * 5
    assert [used(d) for d in old_chain] == [0] * 5
    assert used(Domain.objects.get(pk=root.pk)) == 1
    assert recalculate().clean


def test_deleting_a_project_while_a_claim_is_in_flight_waits_for_it_and_refuses(root, racers):
    project = ProjectFactory(name="web")
    with transaction.atomic():
        services.claim(project, {"instances": 1}, UserFactory(domain=project.domain))
        racers.start([delete_project_job(project.pk)], connection)
        racers.wait_until_blocked(connection, 1)

    (outcome,) = racers.collect().outcomes

    assert outcome["code"] == "project_not_empty", outcome
    assert outcome["details"] == {"owned": {"resources:instances": 1}}
    assert Project.objects.filter(pk=project.pk).exists()
    assert used(project) == 1


def test_a_claim_under_domains_without_limits_waits_for_no_claim_of_another_project(root, racers):
    first, second = ProjectFactory(domain=domain_chain(3)[-1]), ProjectFactory(domain=domain_chain(3)[-1])
    with transaction.atomic():
        services.claim(first, {"instances": 1}, UserFactory(domain=first.domain))
        # ROOT's and every domain's rows are shared, not locked: the other project's claim goes through
        # while this transaction still holds its own.
        result = racers.run([claim_job(second.pk, {"instances": 1})], connection)
        assert (len(result.successes), result.unexpected) == (1, [])

    assert used(Domain.objects.get(pk=root.pk)) == 2
    assert recalculate().clean


def test_a_limit_set_on_a_domain_while_claims_race_under_it_counts_each_of_them_once(racers):
    chain = domain_chain(4)
    projects = [ProjectFactory(domain=chain[-1]), ProjectFactory(domain=chain[-2])]
    jobs = [claim_job(project.pk, {"instances": 1}) for project in projects] * ((RACERS - 1) // 2)
    jobs.insert(len(jobs) // 2, set_domain_limit_job(chain[1].pk, 1000))

    result = racers.run(jobs, connection)

    assert result.unexpected == []
    claimed = len(result.holders)
    assert QuotaUsage.objects.get(domain=chain[1], resource="instances").used == claimed
    assert used(chain[1]) == used(chain[0]) == claimed
    assert recalculate().clean
