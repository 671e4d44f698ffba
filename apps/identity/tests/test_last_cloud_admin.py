"""The cloud keeps an active cloud admin and the rule that lets it do everything, even under races."""

import pytest
from django.db import connection

from apps.core import policy
from apps.core.actor import Actor
from apps.core.errors import Conflict
from apps.core.tests.controllers import database_url
from apps.identity.models import Domain, Role, RoleAssignment, Rule
from apps.identity.services import domains, roles, users
from apps.identity.tests.factories import DomainFactory, UserFactory, grant

from .last_admin_race import delete_user_job, disable_user_job, last_admin_racers, unassign_job

SYSTEM = Actor.system("test")


def cloud_admins():
    return RoleAssignment.objects.filter(
        role__name=policy.CLOUD_ADMIN, domain__parent=None, user__is_active=True
    ).count()


@pytest.fixture
def only_admin(root):
    return grant(UserFactory(domain=root), policy.CLOUD_ADMIN, root)


def test_taking_the_role_from_the_last_cloud_admin_is_refused(only_admin):
    with pytest.raises(Conflict) as refused:
        roles.unassign_role(SYSTEM, only_admin)

    assert refused.value.code == "last_cloud_admin"
    assert cloud_admins() == 1


def test_deleting_or_disabling_the_last_cloud_admin_is_refused(only_admin):
    for change in (
        lambda: users.delete_user(SYSTEM, only_admin.user),
        lambda: users.update_user(SYSTEM, only_admin.user, is_active=False),
    ):
        with pytest.raises(Conflict) as refused:
            change()
        assert refused.value.code == "last_cloud_admin"
    assert cloud_admins() == 1


def test_disabling_the_domain_of_the_last_cloud_admin_or_one_above_it_is_refused(root):
    parent = DomainFactory(parent=root)
    child = DomainFactory(parent=parent)
    grant(UserFactory(domain=child), policy.CLOUD_ADMIN, root)

    for domain in (child, parent):
        with pytest.raises(Conflict) as refused:
            domains.update_domain(SYSTEM, domain, enabled=False)
        assert refused.value.code == "last_cloud_admin"
    assert not Domain.objects.filter(enabled=False).exists()


def test_an_admin_in_a_disabled_domain_does_not_count_as_the_one_that_stays(root):
    parent = DomainFactory(parent=root)
    kept_out = grant(UserFactory(domain=DomainFactory(parent=parent)), policy.CLOUD_ADMIN, root)
    only_usable = grant(UserFactory(domain=root), policy.CLOUD_ADMIN, root)
    domains.update_domain(SYSTEM, parent, enabled=False)

    with pytest.raises(Conflict):
        roles.unassign_role(SYSTEM, only_usable)
    roles.unassign_role(SYSTEM, kept_out)


def test_a_cloud_admin_may_go_while_another_stays(only_admin, root):
    grant(UserFactory(domain=root), policy.CLOUD_ADMIN, root)

    roles.unassign_role(SYSTEM, only_admin)

    assert cloud_admins() == 1


def test_removing_the_rule_that_gives_the_cloud_admin_everything_is_refused(only_admin):
    everything = Rule.objects.get(role__name=policy.CLOUD_ADMIN, action="*")

    with pytest.raises(Conflict) as refused:
        roles.remove_rule(SYSTEM, everything)

    assert refused.value.code == "last_cloud_admin"
    assert Rule.objects.filter(pk=everything.pk).exists()


def test_the_star_rule_may_go_when_other_rules_still_cover_every_action(only_admin):
    cloud_admin = Role.objects.get(name=policy.CLOUD_ADMIN)
    for kind in policy.KINDS:
        roles.add_rule(SYSTEM, role=cloud_admin, action_pattern=f"@{kind}")

    roles.remove_rule(SYSTEM, Rule.objects.get(role=cloud_admin, action="*"))

    assert not Rule.objects.filter(role=cloud_admin, action="*").exists()


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("jobs", ["unassign", "delete_and_disable"])
def test_two_processes_removing_the_last_two_cloud_admins_at_once_leave_one(root, jobs):
    first, second = (grant(UserFactory(domain=root), policy.CLOUD_ADMIN, root) for _ in range(2))
    raced = {
        "unassign": [unassign_job(first.pk), unassign_job(second.pk)],
        "delete_and_disable": [delete_user_job(first.user_id), disable_user_job(second.user_id)],
    }[jobs]

    with last_admin_racers(2, database_url(connection.settings_dict)) as racers:
        result = racers.run(raced, connection)

    assert len(result.successes) == 1, result.outcomes
    (refusal,) = [o for o in result.outcomes if not o["ok"]]
    assert refusal["code"] == "last_cloud_admin"
    assert cloud_admins() == 1
