"""Render portal pages inside the shared frame, and errors as pages with their HTTP status."""

from django.shortcuts import render

from .frame import frame

ERROR_TITLES = {400: "That did not work", 403: "Not allowed", 404: "Not found", 409: "Conflict"}


def render_page(request, template, context=None, *, area=None, project=None, status=200):
    page = frame(request, area, project)
    page.update(context or {})
    return render(request, template, page, status=status)


def error_page(request, error):
    """The page for a ServiceError that no form could take: its status, its message, no traceback."""
    status = error.status if error.status in ERROR_TITLES else 400
    return render_page(
        request,
        "web/error.html",
        {"title": ERROR_TITLES[status], "message": error.message},
        status=status,
    )
