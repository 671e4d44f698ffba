"""What identity adds to the portal: its admin pages' navigation, members in the dashboard, a card."""

from django.urls import reverse

from apps.core.web.extensions import ADMIN, DASHBOARD, register_card, register_nav

from .. import selectors


def identity_card(request, project):
    principal = request.actor.principal
    return {
        "rows": [
            ("Domains", selectors.domains_for(principal).count()),
            ("Projects", selectors.projects_for(principal).count()),
            ("Users", selectors.users_for(principal).count()),
        ],
        "link": ("All projects", reverse("portal:project-list")),
    }


def register():
    for label, url_name, order in [
        ("Domains", "portal:domain-list", 10),
        ("Projects", "portal:project-list", 20),
        ("Users", "portal:user-list", 30),
        ("Roles and rules", "portal:role-list", 40),
    ]:
        register_nav(ADMIN, label, url_name, order=order)
    register_nav(DASHBOARD, "Members", "portal:project-members", order=80)
    register_card(ADMIN, "identity", title="Identity", context=identity_card, order=0)
