"""The shapes form-handling views share: submit, then redirect with a message or show the errors;
confirm a destructive action, then perform it."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.errors import PermissionDenied, ServiceError

from .rendering import render_page


def handled(request, form, operation, *, done, message, failed, page=None):
    """Submit `form` through `operation`.

    Success: flash `message` (a string, or a callable of the result) and redirect to `done`
    (a URL, or a callable of the result). Failure: return failed(form), rendered with status 400.
    A refused form leaves its own address in the address bar; opening that address again (a
    reload, a bookmark) is a GET, which goes to `page`, the page the form is on.
    """
    if request.method == "GET" and page is not None:
        return redirect(page)
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


@dataclass(frozen=True)
class Confirmation:
    """What a destructive action's confirmation says: what goes, what follows, how to back out."""

    title: str
    button: str
    consequences: tuple
    cancel: str
    # Hidden fields the confirming form sends with the POST, as (name, value).
    fields: tuple = ()


def confirmed(request, confirmation, operation, *, done, kept, message, area=None, project=None):
    """GET: the confirmation, a page of its own (web/confirm.html; static/portal/confirm.js opens it
    in a dialog over the page the link is on). POST: perform it, as `performed` does."""
    if request.method == "GET":
        context = {"confirmation": confirmation}
        return render_page(request, "web/confirm.html", context, area=area, project=project)
    return performed(request, operation, done=done, kept=kept, message=message)


def asked(
    request, operation, *, title, button, consequences, back, message, done=None, area=None, project=None
):
    """`confirmed`, its confirmation given in words: Cancel and a refusal go `back`, success to `done`
    (default: `back`)."""
    confirmation = Confirmation(title=title, button=button, consequences=tuple(consequences), cancel=back)
    return confirmed(
        request,
        confirmation,
        operation,
        done=done or back,
        kept=back,
        message=message,
        area=area,
        project=project,
    )


def page_of(request, queryset, per_page=50):
    """One page of a modest list (users, projects); any page parameter is accepted."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def local_target(request, target, fallback):
    """`target` if it is a path of this site (a ?next= or a form's way back), else `fallback`.

    Only a path: a bare word would be taken by redirect() for a view's name (an
    error, or another page than the one meant).
    """
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    ):
        return target
    return fallback
