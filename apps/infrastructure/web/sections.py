"""Sections other apps add to the admin portal's host page, so infrastructure imports none of them.

An app registers from its AppConfig.ready() (compute adds the host's instances
and its audit findings):

    register_host_section("instances", title="Instances", template="compute/admin/host_instances.html",
                          context=instances_on_host, order=10)

`context(request, host)` returns the dict the template gets as `section`, or
None to leave the section out (for instance when the person may not see what
it shows). The registry is the page frame's (apps.core.web.sections).
"""

from apps.core.web import sections

HOST_PAGE = "infrastructure:host"


def register_host_section(name, *, title, template, context, order=100):
    """Add (or replace, when re-registered) a section of the host page."""
    sections.register_section(HOST_PAGE, name, title=title, template=template, context=context, order=order)


def sections_for(request, host):
    """[(section, its context)] shown on this host's page, in order."""
    return sections.sections_for(HOST_PAGE, request, host)
