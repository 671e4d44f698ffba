"""The portal's own navigation entries (the overview pages), registered in PortalConfig.ready()."""

from apps.core.web.extensions import ADMIN, DASHBOARD, register_nav


def register():
    register_nav(ADMIN, "Overview", "portal:admin-overview", order=0)
    register_nav(DASHBOARD, "Overview", "portal:project-overview", order=0)
