"""A system check (`manage.py check`, and at controller start) that the LDAP settings make sense.

Registered in IdentityConfig.ready().
"""

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

from . import config
from .mapping import group_roles


def ldap_settings_check(app_configs, **kwargs):
    if not settings.CLOUDMGR_LDAP_ENABLED:
        return []
    try:
        config.backend_settings()
        group_roles()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="identity.E001")]
    return []
