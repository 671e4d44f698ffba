"""The wrapper every portal page goes through: sign-in, the actor, admin-only areas, errors as pages."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import reverse

from apps.core.errors import NotFound, ServiceError

from .frame import actor_for, administers_anything
from .rendering import error_page

_session_checks = []


def check_sessions_with(check):
    """`check(request)` -> a response for a signed-in person who may not go on (None: they may).

    Identity registers one from its AppConfig.ready() (a disabled domain signs its users out).
    """
    _session_checks.append(check)


def _sign_in_again(request):
    login_url = reverse("portal:login")
    if request.headers.get("HX-Request"):
        # A polled fragment must not swap the login page into itself: send the whole page there.
        return HttpResponse(status=204, headers={"HX-Redirect": login_url})
    return redirect_to_login(request.get_full_path(), login_url)


def portal_view(view=None, *, admin=False):
    """Require a signed-in user of an enabled domain; set request.actor; turn ServiceError into a page.

    admin=True: only cloud and domain administrators; for anyone else the admin portal does not
    exist (404), so its URLs, which carry object ids, answer like any other tenant's object.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return _sign_in_again(request)
            for check in _session_checks:
                refused = check(request)
                if refused is not None:
                    return refused
            request.actor = actor_for(request)
            if admin and not administers_anything(request.actor.principal):
                return error_page(
                    request, NotFound("The admin portal is for cloud and domain administrators.")
                )
            try:
                return view(request, *args, **kwargs)
            except ServiceError as error:
                return error_page(request, error)

        return wrapper

    return decorate(view) if view is not None else decorate
