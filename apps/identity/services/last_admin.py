"""The cloud always keeps a cloud admin who can do everything.

Taking the role away, deleting or disabling its last holder, disabling the
domain its last holder belongs to (or one above it), or removing the last rule
that gives the role every action would leave nobody able to run the cloud (the
cloud admin's own fuzzing could do it). Each of those changes calls a check
here inside its transaction; the check first takes a row lock on the
cloud_admin role, so two such changes racing on different controllers queue,
and the second one counts what the first left.
"""

from apps.core import policy
from apps.core.errors import Conflict
from apps.core.tree import ROOT_DOMAIN_ID

from ..models import Domain, Role, RoleAssignment

LAST_CLOUD_ADMIN = "last_cloud_admin"


def _lock_cloud_admin_role():
    return Role.objects.select_for_update(no_key=True).filter(name=policy.CLOUD_ADMIN).first()


def _holders_on_root():
    """Active holders whose own domain, and every domain above it, is enabled: the others cannot sign in."""
    holders = RoleAssignment.objects.filter(
        role__name=policy.CLOUD_ADMIN, domain_id=ROOT_DOMAIN_ID, user__is_active=True
    )
    for path in Domain.objects.filter(enabled=False).values_list("path", flat=True):
        holders = holders.exclude(user__domain__path__startswith=path)
    return holders


def holds_cloud_admin(user):
    return _holders_on_root().filter(user=user).exists()


def refuse_losing_the_last_cloud_admin(*, user=None, assignment=None):
    """Refuse when no active cloud admin on ROOT would remain without `user` (or `assignment`)."""
    if assignment is not None and not (
        assignment.role.name == policy.CLOUD_ADMIN and assignment.domain_id == ROOT_DOMAIN_ID
    ):
        return
    if user is not None and not holds_cloud_admin(user):
        return
    _lock_cloud_admin_role()
    remaining = _holders_on_root()
    remaining = (
        remaining.exclude(pk=assignment.pk) if assignment is not None else remaining.exclude(user=user)
    )
    _refuse_if_none(remaining)


def refuse_disabling_the_last_cloud_admins_domain(domain):
    """Refuse disabling `domain` when every active cloud admin on ROOT belongs to it or below it."""
    if not _holders_on_root().filter(user__domain__path__startswith=domain.path).exists():
        return
    _lock_cloud_admin_role()
    _refuse_if_none(_holders_on_root().exclude(user__domain__path__startswith=domain.path))


def _refuse_if_none(remaining):
    if not remaining.exists():
        raise Conflict(
            "This would leave the cloud without an active cloud admin on ROOT.", code=LAST_CLOUD_ADMIN
        )


def refuse_removing_what_gives_everything(rule):
    """Refuse removing a rule of cloud_admin when the role's other rules do not cover every action."""
    if rule.role.name != policy.CLOUD_ADMIN:
        return
    _lock_cloud_admin_role()
    others = list(rule.role.rules.exclude(pk=rule.pk).values_list("action", flat=True))
    if policy.actions_matching(others) != set(policy.registered_actions()):
        raise Conflict(
            f"The cloud_admin role would no longer allow every action without the rule '{rule.action}'.",
            code=LAST_CLOUD_ADMIN,
        )
