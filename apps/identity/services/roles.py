"""Roles, their rules, and who holds them where — with delegation limits."""

from apps.audit.recorder import audited
from apps.core import policy
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.core.tree import PLATFORM

from ..models import Role, RoleAssignment, Rule
from .common import require, save_unique
from .last_admin import refuse_losing_the_last_cloud_admin, refuse_removing_what_gives_everything
from .revocation import revoke_user_tokens


def require_may_give(actor, role, where, refusal):
    """Delegation: only who holds, at `where`, every action `role` carries may give it or take it away."""
    patterns = [rule.action for rule in role.rules.all()]
    if not actor.principal.may_grant(patterns, where.target()):
        raise PermissionDenied(refusal, code="delegation_exceeded")


def assign_role(actor, *, user, role, domain=None, project=None):
    """Give `role` to `user` on a domain or a project.

    Delegated administration: the giver must hold, at that place, every action
    the role carries, and must administer the user.
    """
    if (domain is None) == (project is None):
        raise ValidationFailed("Give a role on a domain or on a project.", code="bad_target")
    where = domain or project
    target = where.target() if domain else project.admin_target()
    action = "identity.role_assignment.create"
    with audited(actor, action, target=target) as op:
        require(actor, action, target, f"You may not give roles on {where}.")
        if not actor.can("identity.user.read", user.target()):
            raise NotFound("No such user.")
        refusal = f"You cannot give the role {role.name}: it allows more than you hold on {where}."
        require_may_give(actor, role, where, refusal)
        refuse_platform_role_below_root(role, domain, project)
        assignment = RoleAssignment(user=user, role=role, domain=domain, project=project)
        op.object = assignment
        op.details = {"user": user.username, "role": role.name, "on": str(where)}
        save_unique(assignment, f"{user} already has the role {role.name} on {where}.")
    return assignment


def refuse_platform_role_below_root(role, domain, project):
    """A role carrying platform actions runs the cloud, whose objects sit on ROOT: given on a project or
    a lower domain, those actions would never apply, so it is given on the root domain only."""
    platform = policy.platform_actions_matching([rule.action for rule in role.rules.all()])
    if not platform or (domain is not None and domain.is_root):
        return
    where = f"project {project}" if project is not None else f"domain {domain}"
    raise ValidationFailed(
        f"The role {role.name} runs the cloud itself (for instance {min(platform)}), which happens on the"
        f" root domain only: give it on the root domain, not on {where}.",
        code="role_scope_mismatch",
    )


def unassign_role(actor, assignment):
    where = assignment.domain or assignment.project
    target = assignment.domain.target() if assignment.domain_id else assignment.project.admin_target()
    action = "identity.role_assignment.delete"
    with audited(actor, action, target=target, obj=assignment) as op:
        require(actor, action, target, f"You may not take roles away on {where}.")
        role = assignment.role
        refusal = f"You cannot take away the role {role.name}: it allows more than you hold on {where}."
        require_may_give(actor, role, where, refusal)
        op.details = {
            "user": assignment.user.username,
            "role": assignment.role.name,
            "on": str(where),
        }
        user = assignment.user
        refuse_losing_the_last_cloud_admin(assignment=assignment)
        assignment.delete()
        op.details["tokens_revoked"] = revoke_user_tokens(user)


def create_role(actor, *, name, description=""):
    action = "identity.role.create"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "Only cloud administrators define roles.")
        role = Role(name=name, description=description)
        op.object = role
        save_unique(role, f"A role named '{name}' exists.")
    return role


def delete_role(actor, role):
    action = "identity.role.delete"
    with audited(actor, action, target=PLATFORM, obj=role):
        require(actor, action, PLATFORM, "Only cloud administrators delete roles.")
        if role.name in policy.DEFAULT_ROLES:
            raise ValidationFailed(f"{role.name} is a built-in role.", code="builtin_role")
        if role.assignments.exists():
            raise ValidationFailed(
                f"Role {role.name} is still assigned; take it away first.", code="role_in_use"
            )
        role.delete()


def add_rule(actor, *, role, action_pattern):
    action = "identity.rule.create"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "Only cloud administrators edit rules.")
        if not policy.validate_pattern(action_pattern):
            raise ValidationFailed(
                f"'{action_pattern}' matches no action: use an action name, a glob such as"
                " 'identity.project.*', or a kind: " + ", ".join(f"@{k}" for k in policy.KINDS) + ".",
                code="unknown_action",
                details={"action": [f"'{action_pattern}' matches no action."]},
            )
        rule = Rule(role=role, action=action_pattern)
        op.object = rule
        save_unique(rule, f"Role {role.name} already has the rule '{action_pattern}'.")
    return rule


def remove_rule(actor, rule):
    action = "identity.rule.delete"
    with audited(actor, action, target=PLATFORM, obj=rule):
        require(actor, action, PLATFORM, "Only cloud administrators edit rules.")
        refuse_removing_what_gives_everything(rule)
        rule.delete()
