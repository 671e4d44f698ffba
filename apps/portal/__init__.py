"""The admin portal (/admin-portal/) and the tenant dashboard (/dashboard/), rendered over the services."""
