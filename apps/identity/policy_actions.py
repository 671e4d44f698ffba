"""The identity app's policy actions (what a role may be allowed to do), registered in its ready()."""

from apps.core.policy import ADMINISTER, PLATFORM_KIND, READ

POLICY_ACTIONS = [
    ("identity.domain.read", READ, "See a domain"),
    ("identity.domain.create", ADMINISTER, "Create a sub-domain"),
    ("identity.domain.update", ADMINISTER, "Rename, enable or disable a domain"),
    ("identity.domain.delete", ADMINISTER, "Delete an empty domain"),
    ("identity.project.read", READ, "See a project"),
    ("identity.project.create", ADMINISTER, "Create a project"),
    ("identity.project.update", ADMINISTER, "Rename, enable or disable a project"),
    ("identity.project.delete", ADMINISTER, "Delete an empty project"),
    ("identity.project.move", ADMINISTER, "Move a project to another domain"),
    ("identity.user.read", ADMINISTER, "See a domain's users"),
    ("identity.user.create", ADMINISTER, "Create a user"),
    ("identity.user.update", ADMINISTER, "Change a user, set their password, disable them"),
    ("identity.user.delete", ADMINISTER, "Delete a user"),
    ("identity.role_assignment.read", READ, "See who holds which role"),
    ("identity.role_assignment.create", ADMINISTER, "Give a role"),
    ("identity.role_assignment.delete", ADMINISTER, "Take a role away"),
    ("identity.role.create", PLATFORM_KIND, "Define a role"),
    ("identity.role.delete", PLATFORM_KIND, "Delete a role"),
    ("identity.rule.create", PLATFORM_KIND, "Add a rule to a role"),
    ("identity.rule.delete", PLATFORM_KIND, "Remove a rule from a role"),
    ("identity.api_key.create", READ, "Create an API key of one's own on a project"),
    ("identity.api_key.read", ADMINISTER, "See other users' API keys"),
    ("identity.api_key.update", ADMINISTER, "Disable or enable other users' API keys"),
    ("identity.api_key.delete", ADMINISTER, "Delete other users' API keys"),
]
