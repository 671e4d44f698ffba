"""Where apps add pages to the admin portal and the dashboard, and cards to their overview pages.

An app registers from its AppConfig.ready(), without touching portal code:

    register_nav(DASHBOARD, "Instances", "compute:instance-list", order=30)
    register_card(ADMIN, "hosts", title="Hosts", context=host_summary, order=20)

Dashboard pages are reversed with `project_id`; admin pages with no arguments.
`visible(principal, project)` decides whether a person sees a nav entry;
a card's `context(request, project)` returns the dict its template renders
(`rows`: [(label, value)], optional `link`: (label, url)), or None to hide it.
Nothing is shown for a page no app has registered: there are no placeholders.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

ADMIN, DASHBOARD = "admin", "dashboard"
AREAS = (ADMIN, DASHBOARD)


@dataclass(frozen=True)
class NavEntry:
    area: str
    label: str
    url_name: str
    order: int = 100
    visible: Callable | None = None

    def url(self, project=None):
        if self.area == DASHBOARD:
            return reverse(self.url_name, kwargs={"project_id": project.pk})
        return reverse(self.url_name)


@dataclass(frozen=True)
class Card:
    area: str
    name: str
    title: str
    context: Callable
    order: int = 100
    template: str = "web/cards/summary.html"


_nav = {}
_cards = {}


def _check_area(area):
    if area not in AREAS:
        raise ValueError(f"unknown portal area {area!r}; use one of {AREAS}")


def register_nav(area, label, url_name, *, order=100, visible=None):
    """Add (or replace, when re-registered) a navigation entry of an area."""
    _check_area(area)
    _nav[(area, url_name)] = NavEntry(area, label, url_name, order, visible)


def register_card(area, name, *, title, context, order=100, template=None):
    """Add (or replace) a card on the overview page of an area."""
    _check_area(area)
    extra = {"template": template} if template else {}
    _cards[(area, name)] = Card(area, name, title, context, order, **extra)


def nav_entries(area, principal, project=None):
    """[(entry, url)] a person sees in an area, in order."""
    entries = sorted((e for e in _nav.values() if e.area == area), key=lambda e: (e.order, e.label))
    return [
        (entry, entry.url(project))
        for entry in entries
        if entry.visible is None or entry.visible(principal, project)
    ]


def with_contexts(parts, request, subject):
    """[(part, its context)] of cards or sections (each with order, name and context), in order; those
    whose context(request, subject) is None are left out."""
    shown = []
    for part in sorted(parts, key=lambda p: (p.order, p.name)):
        context = part.context(request, subject)
        if context is not None:
            shown.append((part, context))
    return shown


def cards(area, request, project=None):
    """[(card, context)] shown on an area's overview, in order; cards whose context is None are left out."""
    return with_contexts((c for c in _cards.values() if c.area == area), request, project)
