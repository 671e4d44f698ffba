"""LDAP settings that cannot work are reported by `manage.py check`, before any user tries to log in."""

import pytest

from apps.identity.directory.checks import ldap_settings_check


@pytest.fixture
def ldap_settings(settings, tmp_path):
    password_file = tmp_path / "bind-password"
    password_file.write_text("bind-password\n")
    settings.CLOUDMGR_LDAP_ENABLED = True
    settings.CLOUDMGR_LDAP_USER_SEARCH_BASE = "ou=people,dc=example,dc=test"
    settings.CLOUDMGR_LDAP_GROUP_SEARCH_BASE = "ou=groups,dc=example,dc=test"
    settings.CLOUDMGR_LDAP_BIND_PASSWORD_FILE = str(password_file)
    settings.CLOUDMGR_LDAP_GROUP_ROLES = '[{"group": "cn=devs", "role": "r", "domain": "acme"}]'
    return settings


def messages(app_configs=None):
    return [error.msg for error in ldap_settings_check(app_configs)]


def test_sound_settings_pass_the_check(ldap_settings):
    assert messages() == []


@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [
        (
            "CLOUDMGR_LDAP_USER_SEARCH_BASE",
            "",
            "CLOUDMGR_LDAP_USER_DN_TEMPLATE or CLOUDMGR_LDAP_USER_SEARCH_BASE",
        ),
        ("CLOUDMGR_LDAP_GROUP_SEARCH_BASE", "", "need CLOUDMGR_LDAP_GROUP_SEARCH_BASE"),
        ("CLOUDMGR_LDAP_GROUP_TYPE", "memberOf", "CLOUDMGR_LDAP_GROUP_TYPE is 'memberOf'"),
        ("CLOUDMGR_LDAP_GROUP_ROLES", "{not json", "is not JSON"),
        ("CLOUDMGR_LDAP_GROUP_ROLES", '[{"group": "cn=devs", "role": "r"}]', "needs 'project' or 'domain'"),
        ("CLOUDMGR_LDAP_GROUP_ROLES", '[{"group": "cn=a", "role": "r", "project": "x"}]', "not a project id"),
        ("CLOUDMGR_LDAP_BIND_PASSWORD_FILE", "/nonexistent/bind-password", "cannot be read"),
    ],
)
def test_settings_that_cannot_work_fail_the_check(ldap_settings, setting, value, complaint):
    setattr(ldap_settings, setting, value)
    [message] = messages()
    assert complaint in message


def test_nothing_is_checked_while_ldap_is_disabled(ldap_settings):
    ldap_settings.CLOUDMGR_LDAP_ENABLED = False
    ldap_settings.CLOUDMGR_LDAP_GROUP_ROLES = "{not json"
    assert messages() == []
