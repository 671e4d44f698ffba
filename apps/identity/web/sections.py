"""Sections other apps add to the admin portal's domain and project pages, so identity imports none of them.

An app registers from its AppConfig.ready() (quotas adds usage and limits):

    register_scope_section("quotas/section.html", quota_section)

`context(request, scope, **bound)` returns the dict its template gets as `section`,
or None to leave it out; `bound` carries the forms a refused submission left for
the section to show again with their errors.
"""

_sections = []


def register_scope_section(template, context):
    _sections.append((template, context))


def sections_for(request, scope, **bound):
    """[(template, its context)] shown on a domain's or a project's page, in registration order."""
    shown = []
    for template, context in _sections:
        section = context(request, scope, **bound)
        if section is not None:
            shown.append((template, section))
    return shown
