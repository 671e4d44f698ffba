"""Sign in and out, the landing redirect, the user's own profile and password, the project switcher."""

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.web.decorators import portal_view
from apps.core.web.flow import local_target
from apps.core.web.frame import administers_anything
from apps.core.web.rendering import render_page
from apps.identity import selectors
from apps.identity.services import users
from apps.identity.web.dashboard import SESSION_PROJECT, current_project, make_current

from ..forms.account import LoginForm, PasswordChangeForm
from ..sign_in import check_credentials, record_sign_out


def login_view(request):
    wanted = request.POST.get("next") or request.GET.get("next")
    after = local_target(request, wanted, reverse("portal:home"))
    if request.user.is_authenticated:
        return redirect(after)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.submit(
        lambda data: check_credentials(data["username"], data["password"], request.client_address)
    ):
        login(request, form.result)
        return redirect(after)
    context = {"form": form, "next": local_target(request, wanted, "")}
    return render(request, "portal/login.html", context, status=400 if form.errors else 200)


@require_POST
@portal_view
def logout_view(request):
    record_sign_out(request.actor)
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect("portal:login")


@require_GET
@portal_view
def home(request):
    """Administrators land on the admin portal, everyone else on their project."""
    if administers_anything(request.actor.principal):
        return redirect("portal:admin-overview")
    return redirect("portal:dashboard")


@portal_view
def profile(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.submit(
        lambda data: users.set_password(
            request.actor, request.user, data["new_password"], old_password=data["old_password"]
        )
    ):
        update_session_auth_hash(request, form.result)
        messages.success(request, "Your password is changed; your API tokens were revoked.")
        return redirect("portal:profile")
    roles = selectors.assignments_for(request.actor.principal).filter(user=request.user)
    return render_page(
        request,
        "portal/profile.html",
        {"form": form, "assignments": roles},
        status=400 if form.errors else 200,
    )


@require_POST
@portal_view
def switch_project(request):
    """Make another project current: one the person may see, or 404."""
    project = selectors.get_or_404(
        selectors.projects_for(request.actor.principal).filter(enabled=True),
        "project",
        pk=request.POST.get("project", ""),
    )
    make_current(request, project)
    return redirect("portal:project-overview", project_id=project.pk)


@require_GET
@portal_view
def dashboard(request):
    project = current_project(request, request.actor.principal)
    if project is None:
        request.session.pop(SESSION_PROJECT, None)
        return render_page(request, "portal/dashboard/no_project.html")
    return redirect("portal:project-overview", project_id=project.pk)
