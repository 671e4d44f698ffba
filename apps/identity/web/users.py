"""Admin portal: users, one user with their roles, and their changes."""

from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.web.decorators import portal_view
from apps.core.web.flow import Confirmation, confirmed, handled, local_target
from apps.core.web.listing import Column, Listing
from apps.core.web.rendering import render_page
from apps.identity import selectors
from apps.identity.services import roles, users

from .forms import AssignRoleForm, SetPasswordForm, UserCreateForm, UserUpdateForm
from .selectors import path_labels

admin_view = portal_view(admin=True)


def _user(request, user_id):
    return selectors.get_or_404(selectors.users_for(request.actor.principal), "user", pk=user_id)


def _detail_url(user):
    return reverse("portal:user-detail", args=[user.pk])


@require_GET
@admin_view
def user_list(request):
    return _render_list(request, UserCreateForm(request.actor.principal))


COLUMNS = (
    Column("username", "Username", ("username",)),
    Column("name", "Name", ("full_name",)),
    Column("domain", "Domain", ("domain__path",)),
    Column("state", "State", ("is_active",)),
    Column("created", "Created", ("created_at",)),
)


def _render_list(request, form):
    principal = request.actor.principal
    listing = Listing(
        request,
        selectors.users_for(principal),
        columns=COLUMNS,
        default="username",
        search=("username", "full_name", "email", "domain__name"),
    )
    labels = path_labels(principal, list({u.domain_id: u.domain for u in listing.rows}.values()))
    rows = [(user, labels[user.domain_id]) for user in listing.rows]
    context = {"listing": listing, "rows": rows, "form": form}
    return render_page(request, "identity/admin/users.html", context, area="admin")


@require_http_methods(["GET", "POST"])
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
        page=reverse("portal:user-list"),
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


@require_http_methods(["GET", "POST"])
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
        page=_detail_url(user),
    )


@require_http_methods(["GET", "POST"])
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
        page=_detail_url(user),
    )


@require_http_methods(["GET", "POST"])
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
        page=_detail_url(user),
    )


@require_http_methods(["GET", "POST"])
@admin_view
def user_delete(request, user_id):
    user = _user(request, user_id)
    confirmation = Confirmation(
        title=f"Delete user {user.username}?",
        button=f"Delete user {user.username}",
        consequences=(
            f"{user.username} can no longer sign in; their roles, API tokens and API keys go with them.",
            "The audit log keeps what they did.",
        ),
        cancel=_detail_url(user),
    )
    return confirmed(
        request,
        confirmation,
        lambda: users.delete_user(request.actor, user),
        done=reverse("portal:user-list"),
        kept=_detail_url(user),
        message=f"User {user.username} deleted.",
        area="admin",
    )


@require_http_methods(["GET", "POST"])
@portal_view
def assignment_delete(request, assignment_id):
    """Take a role away, once confirmed; back to the page the link was on (user, project or members)."""
    assignment = selectors.get_or_404(
        selectors.assignments_for(request.actor.principal), "role assignment", pk=assignment_id
    )
    user, role = assignment.user, assignment.role
    where = (
        f"project {assignment.project.name}" if assignment.project_id else f"domain {assignment.domain.name}"
    )
    back = local_target(request, request.POST.get("back") or request.GET.get("back"), _detail_url(user))
    confirmation = Confirmation(
        title=f"Take the role {role.name} on {where} away from {user.username}?",
        button=f"Take {role.name} away",
        consequences=(
            f"{user.username} loses at once what {role.name} allows on {where}, and their API tokens are"
            " revoked.",
        ),
        cancel=back,
        fields=(("back", back),),
    )
    return confirmed(
        request,
        confirmation,
        lambda: roles.unassign_role(request.actor, assignment),
        done=back,
        kept=back,
        message=f"{user.username} is no longer {role.name} on {where}.",
    )
