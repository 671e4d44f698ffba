"""What quotas add to the portal: the admin quotas page's navigation, and the section of domain and
project pages."""

from apps.core.web.extensions import ADMIN, register_nav
from apps.identity.web.sections import register_scope_section

from .sections import quota_section


def register():
    register_nav(ADMIN, "Quotas", "portal:admin-quotas", order=35)
    register_scope_section("quotas/section.html", quota_section)
