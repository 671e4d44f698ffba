"""Sections other apps add to the admin portal's host page, so infrastructure imports none of them.

An app registers from its AppConfig.ready() (compute adds the host's instances
and its audit findings, monitoring its utilisation), through the core registry
of page sections (apps/core/web/sections.py) under the page name HOST_PAGE:

    register_host_section("instances", title="Instances", template="compute/admin/host_instances.html",
                          context=instances_on_host, order=10)
"""

from functools import partial

from apps.core.web.sections import page_sections, register_section

HOST_PAGE = "infrastructure.host"

register_host_section = partial(register_section, HOST_PAGE)
sections_for = partial(page_sections, HOST_PAGE)
