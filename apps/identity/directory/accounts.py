"""Strict directory look-ups for the sync: a directory that cannot answer raises, never reads as "gone".

django-auth-ldap treats search errors as "no such user", which is right for a
login but would let a directory outage disable every user in the sync. These
look-ups use its configuration objects but let every LDAP error through.
"""

from dataclasses import dataclass

import ldap
from django_auth_ldap.config import LDAPSearch


@dataclass
class DirectoryAccount:
    """A user entry, shaped as django-auth-ldap's group types expect (dn, attrs, connection)."""

    connection: object
    dn: str
    attrs: dict


def connect(config):
    """An LDAP connection bound as the service account; raises ldap.LDAPError on any failure."""
    connection = ldap.initialize(config.SERVER_URI, bytes_mode=False)
    for option, value in config.CONNECTION_OPTIONS.items():
        connection.set_option(option, value)
    if config.START_TLS:
        connection.start_tls_s()
    connection.simple_bind_s(config.BIND_DN, config.BIND_PASSWORD)
    return connection


def find_account(connection, config, username):
    """The account of `username`, or None when the directory says there is none."""
    if config.USER_DN_TEMPLATE:
        dn = config.USER_DN_TEMPLATE % {"user": ldap.dn.escape_dn_chars(username)}
        try:
            results = LDAPSearch(dn, ldap.SCOPE_BASE, attrlist=config.USER_ATTRLIST).execute(connection)
        except ldap.NO_SUCH_OBJECT:
            return None
    else:
        results = config.USER_SEARCH.execute(connection, {"user": username})
    # Like a login, anything but exactly one entry means no account.
    if len(results) != 1:
        return None
    dn, attrs = results[0]
    return DirectoryAccount(connection, dn, attrs)


def _is_member(account, config, group_dn):
    answer = config.GROUP_TYPE.is_member(account, group_dn)
    if answer is None:
        groups = config.GROUP_TYPE.user_groups(account, config.GROUP_SEARCH)
        answer = group_dn.lower() in {dn.lower() for dn, _ in groups}
    return bool(answer)


def may_log_in(account, config):
    """The group conditions of a login (CLOUDMGR_LDAP_REQUIRE_GROUP, _DENY_GROUP), checked again."""
    if config.REQUIRE_GROUP and not _is_member(account, config, config.REQUIRE_GROUP):
        return False
    return not (config.DENY_GROUP and _is_member(account, config, config.DENY_GROUP))
