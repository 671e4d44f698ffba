from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "apps.identity"
    label = "identity"

    def ready(self):
        from . import actions, periodic  # noqa: F401  (registers actions and periodic work)
        from .api import schema  # noqa: F401
        from .apikeys import nonces  # noqa: F401  (nonces: its system check)
        from .directory import checks, sync  # noqa: F401
        from .ownership import register_domain_owner

        register_domain_owner("sub-domains", lambda domain: domain.children.count())
        register_domain_owner("projects", lambda domain: domain.projects.count())
        register_domain_owner("users", lambda domain: domain.users.count())
