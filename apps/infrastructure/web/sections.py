"""Sections other apps add to the admin portal's host page, so infrastructure imports none of them.

An app registers from its AppConfig.ready() (compute adds the host's instances
and its audit findings):

    register_host_section("instances", title="Instances", template="compute/admin/host_instances.html",
                          context=instances_on_host, order=10)

`context(request, host)` returns the dict the template gets as `section`, or
None to leave the section out (for instance when the person may not see what
it shows).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HostSection:
    name: str
    title: str
    template: str
    context: Callable
    order: int = 100


_sections = {}


def register_host_section(name, *, title, template, context, order=100):
    """Add (or replace, when re-registered) a section of the host page."""
    _sections[name] = HostSection(name, title, template, context, order)


def sections_for(request, host):
    """[(section, its context)] shown on this host's page, in order."""
    shown = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.name)):
        context = section.context(request, host)
        if context is not None:
            shown.append((section, context))
    return shown
