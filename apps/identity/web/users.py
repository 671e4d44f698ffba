"""Admin portal: users, one user with their roles, and their changes."""

from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled, local_target, page_of, performed
from apps.core.web.rendering import render_page
from apps.identity import selectors
from apps.identity.services import roles, users

from .forms import AssignRoleForm, SetPasswordForm, UserCreateForm, UserUpdateForm

admin_view = portal_view(admin=True)


def _user(request, user_id):
    return selectors.get_or_404(selectors.users_for(request.actor.principal), "user", pk=user_id)


def _detail_url(user):
    return reverse("portal:user-detail", args=[user.pk])


@require_GET
@admin_view
def user_list(request):
    return _render_list(request, UserCreateForm(request.actor.principal))


def _render_list(request, form):
    page = page_of(request, selectors.users_for(request.actor.principal))
    return render_page(request, "identity/admin/users.html", {"page": page, "form": form}, area="admin")


@require_POST
@admin_view
def user_create(request):
    return handled(
        request,
        UserCreateForm(request.actor.principal, request.POST),
        lambda data: users.create_user(
            request.actor,
            domain=data["domain"],
            username=data["username"],
            password=data["password"] or None,
            full_name=data["full_name"],
            email=data["email"],
        ),
        done=_detail_url,
        message=lambda user: f"User {user.username} created.",
        failed=lambda form: _render_list(request, form),
    )


@require_GET
@admin_view
def user_detail(request, user_id):
    return _render_detail(request, _user(request, user_id))


def _render_detail(request, user, **forms):
    principal = request.actor.principal
    context = {
        "subject": user,
        "assignments": selectors.assignments_for(principal).filter(user=user),
        "edit_form": forms.get("edit_form")
        or UserUpdateForm(
            initial={"full_name": user.full_name, "email": user.email, "is_active": user.is_active}
        ),
        "password_form": forms.get("password_form") or SetPasswordForm(),
        "assign_form": forms.get("assign_form") or AssignRoleForm(principal),
        "can_edit": request.actor.can("identity.user.update", user.target()),
        "can_delete": request.actor.can("identity.user.delete", user.target()) and user != request.user,
    }
    return render_page(request, "identity/admin/user_detail.html", context, area="admin")


@require_POST
@admin_view
def user_update(request, user_id):
    user = _user(request, user_id)
    return handled(
        request,
        UserUpdateForm(request.POST),
        lambda data: users.update_user(request.actor, user, **data),
        done=_detail_url(user),
        message="User saved.",
        failed=lambda form: _render_detail(request, user, edit_form=form),
    )


@require_POST
@admin_view
def user_password(request, user_id):
    user = _user(request, user_id)
    return handled(
        request,
        SetPasswordForm(request.POST),
        lambda data: users.set_password(request.actor, user, data["new_password"]),
        done=_detail_url(user),
        message=f"Password of {user.username} set; their tokens were revoked.",
        failed=lambda form: _render_detail(request, user, password_form=form),
    )


@require_POST
@admin_view
def user_assign(request, user_id):
    user = _user(request, user_id)
    form = AssignRoleForm(request.actor.principal, request.POST)
    return handled(
        request,
        form,
        lambda data: roles.assign_role(request.actor, user=user, role=data["role"], **form.place()),
        done=_detail_url(user),
        message=lambda a: f"{user.username} is now {a.role.name} on {a.domain or a.project}.",
        failed=lambda form: _render_detail(request, user, assign_form=form),
    )


@require_POST
@admin_view
def user_delete(request, user_id):
    user = _user(request, user_id)
    return performed(
        request,
        lambda: users.delete_user(request.actor, user),
        done=reverse("portal:user-list"),
        kept=_detail_url(user),
        message=f"User {user.username} deleted.",
    )


@require_POST
@portal_view
def assignment_delete(request, assignment_id):
    """Take a role away; back to the page the form was on (user, project or dashboard members)."""
    assignment = selectors.get_or_404(
        selectors.assignments_for(request.actor.principal), "role assignment", pk=assignment_id
    )
    back = local_target(request, request.POST.get("back"), _detail_url(assignment.user))
    return performed(
        request,
        lambda: roles.unassign_role(request.actor, assignment),
        done=back,
        kept=back,
        message=f"{assignment.user.username} is no longer {assignment.role.name} there.",
    )
