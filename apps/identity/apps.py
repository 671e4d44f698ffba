from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "apps.identity"
    label = "identity"

    def ready(self):
        from django.core.checks import register as register_check

        from apps.core.policy import read_grants_with, register_action
        from apps.core.web.decorators import check_sessions_with
        from apps.core.web.frame import describe_projects_with
        from apps.jobs.registry import register_periodic

        from .api import schema  # noqa: F401  (drf-spectacular finds the authentication schemes it defines)
        from .apikeys.nonces import nonce_store_is_not_the_broker
        from .apikeys.periodic import purge_api_key_nonces
        from .directory.checks import ldap_settings_check
        from .directory.sync import sync_directory_users
        from .grants import load_grants
        from .ownership import register_domain_owner
        from .periodic import purge_expired_tokens, purge_login_failures
        from .policy_actions import POLICY_ACTIONS
        from .web import dashboard, portal

        read_grants_with(load_grants)
        describe_projects_with(frame=dashboard.projects_frame, dashboard_project=dashboard.dashboard_project)
        check_sessions_with(dashboard.signed_out_if_domain_disabled)
        portal.register()
        for name, kind, description in POLICY_ACTIONS:
            register_action(name, kind, description)
        register_periodic("identity.purge_expired_tokens", purge_expired_tokens)
        register_periodic("identity.purge_login_failures", purge_login_failures)
        register_periodic("identity.purge_api_key_nonces", purge_api_key_nonces)
        register_periodic("identity.sync_directory_users", sync_directory_users)
        register_check(ldap_settings_check)
        register_check(nonce_store_is_not_the_broker)
        register_domain_owner("sub-domains", lambda domain: domain.children.count())
        register_domain_owner("projects", lambda domain: domain.projects.count())
        register_domain_owner("users", lambda domain: domain.users.count())
