"""Sections an app adds to a page another app owns, so the page's app imports none of them.

A page is named by the app that owns it (`compute.instance`, `infrastructure.host`).
An app registers from its AppConfig.ready() (monitoring adds charts to the instance page):

    register_section("compute.instance", "usage", title="Usage", template="monitoring/instance_usage.html",
                     context=instance_usage, order=10)

`context(request, subject)` returns the dict the template gets as `section`, or
None to leave the section out (for instance when the person may not see what it
shows). The page passes `page_sections(name, request, subject)` to its template
as `sections` and includes "web/sections.html" where they go.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .extensions import with_contexts


@dataclass(frozen=True)
class Section:
    page: str
    name: str
    title: str
    template: str
    context: Callable
    order: int = 100


_sections = {}


def register_section(page, name, *, title, template, context, order=100):
    """Add (or replace, when re-registered) a section of a page."""
    _sections[(page, name)] = Section(page, name, title, template, context, order)


def page_sections(page, request, subject):
    """[(section, its context)] shown on this page about `subject`, in order."""
    return with_contexts((s for s in _sections.values() if s.page == page), request, subject)
