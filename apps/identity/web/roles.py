"""Admin portal: roles and their rules, grouped by role, with the actions each pattern matches."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core import policy
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import Confirmation, confirmed, handled
from apps.core.web.rendering import render_page
from apps.identity import selectors
from apps.identity.services import roles

from .forms import RoleCreateForm, RuleForm

admin_view = portal_view(admin=True)
ROLES_URL = "portal:role-list"


def _actions_table():
    """[(name, kind, description)] of every registered action, by name."""
    return [(name, kind, text) for name, (kind, text) in sorted(policy.registered_actions().items())]


def _matrix(actions, groups):
    """[(name, kind, description, [allowed by each role…])]: which role may do which action."""
    return [(*action, [action[0] in group["allowed_set"] for group in groups]) for action in actions]


def _rule_form(role, data=None):
    return RuleForm(data, auto_id=f"rule-{role.pk}-%s", preview_target=f"#preview-{role.pk}")


def _role_view(role, all_actions):
    rules = [
        {"rule": rule, "matches": sorted(policy.actions_matching([rule.action]))} for rule in role.rules.all()
    ]
    allowed = policy.actions_matching([rule.action for rule in role.rules.all()])
    return {
        "role": role,
        "rules": rules,
        "allowed_set": allowed,
        "allowed": len(allowed),
        "total": len(all_actions),
        "builtin": role.name in policy.DEFAULT_ROLES,
    }


@require_GET
@admin_view
def role_list(request):
    return _render(request)


def _render(request, *, rule_forms=None, role_form=None):
    actions = _actions_table()
    rule_forms = rule_forms or {}
    groups = []
    for role in selectors.roles():
        group = _role_view(role, actions)
        group["form"] = rule_forms.get(role.pk) or _rule_form(role)
        groups.append(group)
    context = {
        "groups": groups,
        "matrix": _matrix(actions, groups),
        "kinds": policy.KINDS,
        "can_edit": request.actor.can("identity.rule.create", PLATFORM),
        "role_form": role_form or RoleCreateForm(),
    }
    return render_page(request, "identity/admin/roles.html", context, area="admin")


@require_GET
@admin_view
def pattern_preview(request):
    """The actions a pattern would match, as a fragment for the rule editor (htmx, as you type)."""
    pattern = request.GET.get("action", "").strip()[:128]
    matches = sorted(policy.actions_matching([pattern])) if pattern else []
    return render(request, "identity/admin/pattern_preview.html", {"pattern": pattern, "matches": matches})


@require_http_methods(["GET", "POST"])
@admin_view
def rule_create(request, role_id):
    """A refused rule leaves this address in the address bar: opening it again shows the roles page."""
    role = selectors.get_or_404(selectors.roles(), "role", pk=role_id)
    if request.method == "GET":
        return _render(request)
    return handled(
        request,
        _rule_form(role, request.POST),
        lambda data: roles.add_rule(request.actor, role=role, action_pattern=data["action"]),
        done=reverse(ROLES_URL) + f"#role-{role.pk}",
        message=lambda rule: f"{role.name} may now do '{rule.action}'.",
        failed=lambda form: _render(request, rule_forms={role.pk: form}),
    )


def _lost_without(rule):
    """The actions the role allows only through this rule, sorted."""
    others = [other.action for other in rule.role.rules.exclude(pk=rule.pk)]
    return sorted(policy.actions_matching([rule.action]) - policy.actions_matching(others))


@require_http_methods(["GET", "POST"])
@admin_view
def rule_delete(request, rule_id):
    rule = selectors.get_or_404(selectors.rules(), "rule", pk=rule_id)
    role = rule.role
    lost = _lost_without(rule)
    holders = role.assignments.count()
    if lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        if holders == 0:
            effect = f"Nobody holds {role.name} now; it would no longer allow {shown}."
        elif holders == 1:
            effect = f"The 1 holder of {role.name} loses {shown}, at once."
        else:
            effect = f"The {holders} holders of {role.name} lose {shown}, at once."
    else:
        effect = f"Its other rules still allow everything it matches: {role.name} loses no action."
    back = reverse(ROLES_URL) + f"#role-{role.pk}"
    confirmation = Confirmation(
        title=f"Remove the rule '{rule.action}' from {role.name}?",
        button=f"Remove '{rule.action}'",
        consequences=(effect,),
        cancel=back,
    )
    return confirmed(
        request,
        confirmation,
        lambda: roles.remove_rule(request.actor, rule),
        done=back,
        kept=back,
        message=f"Rule '{rule.action}' removed from {role.name}.",
        area="admin",
    )


@require_http_methods(["GET", "POST"])
@admin_view
def role_create(request):
    return handled(
        request,
        RoleCreateForm(request.POST),
        lambda data: roles.create_role(request.actor, name=data["name"], description=data["description"]),
        done=lambda role: reverse(ROLES_URL) + f"#role-{role.pk}",
        message=lambda role: f"Role {role.name} created; give it rules below.",
        failed=lambda form: _render(request, role_form=form),
        page=reverse(ROLES_URL),
    )


@require_http_methods(["GET", "POST"])
@admin_view
def role_delete(request, role_id):
    role = selectors.get_or_404(selectors.roles(), "role", pk=role_id)
    back = reverse(ROLES_URL) + f"#role-{role.pk}"
    confirmation = Confirmation(
        title=f"Delete role {role.name}?",
        button=f"Delete role {role.name}",
        consequences=(
            f"The role {role.name} and its rules are removed for good.",
            "A role someone still holds cannot be deleted: take it away from them first.",
        ),
        cancel=back,
    )
    return confirmed(
        request,
        confirmation,
        lambda: roles.delete_role(request.actor, role),
        done=reverse(ROLES_URL),
        kept=back,
        message=f"Role {role.name} deleted.",
        area="admin",
    )
