"""django-auth-ldap's configuration, built from the CLOUDMGR_LDAP_* settings each time it is used.

The bind password comes from CLOUDMGR_LDAP_BIND_PASSWORD or from the file named
by CLOUDMGR_LDAP_BIND_PASSWORD_FILE, read at each use so that rotating the file
needs no restart. It is never stored in the database nor logged.
"""

import ldap
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_auth_ldap import config as ldap_config

from apps.core.errors import NotFound

from ..lookup import domain_by_path

GROUP_TYPES = {
    "groupOfNames": ldap_config.GroupOfNamesType,
    "groupOfUniqueNames": ldap_config.GroupOfUniqueNamesType,
    "nestedGroupOfNames": ldap_config.NestedGroupOfNamesType,
    "posixGroup": ldap_config.PosixGroupType,
    "activeDirectory": ldap_config.ActiveDirectoryGroupType,
    "nestedActiveDirectory": ldap_config.NestedActiveDirectoryGroupType,
}


def bind_password():
    path = settings.CLOUDMGR_LDAP_BIND_PASSWORD_FILE
    if not path:
        return settings.CLOUDMGR_LDAP_BIND_PASSWORD
    try:
        with open(path, encoding="utf-8") as file:
            return file.readline().rstrip("\r\n")
    except OSError as exc:
        raise ImproperlyConfigured(
            f"CLOUDMGR_LDAP_BIND_PASSWORD_FILE cannot be read: {exc.strerror}"
        ) from exc


def _group_type():
    name = settings.CLOUDMGR_LDAP_GROUP_TYPE
    if name not in GROUP_TYPES:
        raise ImproperlyConfigured(
            f"CLOUDMGR_LDAP_GROUP_TYPE is {name!r}; use one of: {', '.join(GROUP_TYPES)}."
        )
    return GROUP_TYPES[name]()


def _subtree(base, filterstr):
    return ldap_config.LDAPSearch(base, ldap.SCOPE_SUBTREE, filterstr)


def _uses_groups():
    roles = settings.CLOUDMGR_LDAP_GROUP_ROLES.strip()
    return bool(
        settings.CLOUDMGR_LDAP_REQUIRE_GROUP or settings.CLOUDMGR_LDAP_DENY_GROUP or roles not in ("", "[]")
    )


def backend_settings():
    """An LDAPSettings object as django-auth-ldap's backend expects it."""
    if not (settings.CLOUDMGR_LDAP_USER_DN_TEMPLATE or settings.CLOUDMGR_LDAP_USER_SEARCH_BASE):
        raise ImproperlyConfigured("Set CLOUDMGR_LDAP_USER_DN_TEMPLATE or CLOUDMGR_LDAP_USER_SEARCH_BASE.")
    timeout = settings.CLOUDMGR_LDAP_TIMEOUT_SECONDS
    group_base = settings.CLOUDMGR_LDAP_GROUP_SEARCH_BASE
    if not group_base and _uses_groups():
        raise ImproperlyConfigured(
            "CLOUDMGR_LDAP_REQUIRE_GROUP, _DENY_GROUP and _GROUP_ROLES need CLOUDMGR_LDAP_GROUP_SEARCH_BASE."
        )
    values = {
        "SERVER_URI": settings.CLOUDMGR_LDAP_SERVER_URI,
        "START_TLS": settings.CLOUDMGR_LDAP_START_TLS,
        "CONNECTION_OPTIONS": {
            ldap.OPT_NETWORK_TIMEOUT: timeout,
            ldap.OPT_TIMEOUT: timeout,
            ldap.OPT_REFERRALS: 0,
        },
        "BIND_DN": settings.CLOUDMGR_LDAP_BIND_DN,
        "BIND_PASSWORD": bind_password(),
        "USER_DN_TEMPLATE": settings.CLOUDMGR_LDAP_USER_DN_TEMPLATE or None,
        "USER_SEARCH": _subtree(
            settings.CLOUDMGR_LDAP_USER_SEARCH_BASE, settings.CLOUDMGR_LDAP_USER_SEARCH_FILTER
        )
        if not settings.CLOUDMGR_LDAP_USER_DN_TEMPLATE
        else None,
        "USER_ATTR_MAP": {
            "full_name": settings.CLOUDMGR_LDAP_FULL_NAME_ATTRIBUTE,
            "email": settings.CLOUDMGR_LDAP_EMAIL_ATTRIBUTE,
        },
        "ALWAYS_UPDATE_USER": True,
        "GROUP_SEARCH": _subtree(group_base, settings.CLOUDMGR_LDAP_GROUP_SEARCH_FILTER)
        if group_base
        else None,
        "GROUP_TYPE": _group_type(),
        "REQUIRE_GROUP": settings.CLOUDMGR_LDAP_REQUIRE_GROUP or None,
        "DENY_GROUP": settings.CLOUDMGR_LDAP_DENY_GROUP or None,
    }
    return ldap_config.LDAPSettings(prefix="CLOUDMGR_LDAP_NOT_READ_", defaults=values)


def home_domain():
    """The domain where directory users are created."""
    try:
        return domain_by_path(settings.CLOUDMGR_LDAP_DOMAIN)
    except NotFound as exc:
        raise ImproperlyConfigured(f"CLOUDMGR_LDAP_DOMAIN: {exc.message}") from exc
