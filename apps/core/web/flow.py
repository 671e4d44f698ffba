"""The shape every form-handling view shares: submit, then redirect with a message or show the errors."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.errors import PermissionDenied, ServiceError


def handled(request, form, operation, *, done, message, failed):
    """Submit `form` through `operation`.

    Success: flash `message` (a string, or a callable of the result) and redirect to `done`
    (a URL, or a callable of the result). Failure: return failed(form), rendered with status 400.
    """
    if form.submit(operation):
        result = form.result
        messages.success(request, message(result) if callable(message) else message)
        return redirect(done(result) if callable(done) else done)
    response = failed(form)
    response.status_code = form.error_status
    return response


def performed(request, operation, *, done, kept, message):
    """Run a button's operation (a deletion, a switch): on success flash `message` (a string, or a
    callable of the result) and go to `done`; if refused, say why and go to `kept`.

    A permission refusal is not a flash: the page offers no such button, so it is a 403 page.
    """
    try:
        result = operation()
    except PermissionDenied:
        raise
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(kept)
    messages.success(request, message(result) if callable(message) else message)
    return redirect(done)


def page_of(request, queryset, per_page=50):
    """One page of a modest list (users, projects); any page parameter is accepted."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def slice_page(request, queryset, per_page=50):
    """One page of a long list without counting it (the audit log): (rows, page, has_next)."""
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return rows[:per_page], page, len(rows) > per_page


def local_target(request, target, fallback):
    """`target` if it is a URL of this site (a ?next= or a form's way back), else `fallback`."""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
