"""Sections one app adds to another app's page, so the page's app imports none of the apps that add them.

An app registers from its AppConfig.ready(), naming the page:

    register_section("images:admin-image", "prefetch", title="Host caches",
                     template="compute/admin/image_prefetch.html", context=prefetch_section, order=10)

`context(request, obj)` returns the dict the template gets as `section`, or None
to leave the section out (for instance when the person may not see what it shows).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    template: str
    context: Callable
    order: int = 100


_sections = {}


def register_section(page, name, *, title, template, context, order=100):
    """Add (or replace, when re-registered) a section of `page`."""
    _sections.setdefault(page, {})[name] = Section(name, title, template, context, order)


def sections_for(page, request, obj):
    """[(section, its context)] shown on `page` about `obj`, in order."""
    shown = []
    for section in sorted(_sections.get(page, {}).values(), key=lambda s: (s.order, s.name)):
        context = section.context(request, obj)
        if context is not None:
            shown.append((section, context))
    return shown
