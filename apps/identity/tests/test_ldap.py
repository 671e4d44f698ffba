"""LDAP login against a real OpenLDAP slapd: first login, group-to-role mapping, refusals, the sync."""

import io
import json
import logging

import ldap
import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.conftest import login
from apps.core import policy
from apps.identity.directory.sync import sync_directory_users
from apps.identity.models import ApiKey, RoleAssignment, User
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.identity.tests.signing import SignedApi, create_key
from apps.identity.tests.slapd import GROUPS, PEOPLE, SERVICE_DN, Slapd

SERVICE_PASSWORD = "service-bind-password-4711"
ALICE_PASSWORD = "alice-directory-password"
BOB_PASSWORD = "bob-directory-password"


@pytest.fixture
def places(root):
    """Where directory users land and what their groups map to."""
    home = DomainFactory(name="directory")
    return {"home": home, "project": ProjectFactory(domain=home), "ops_domain": DomainFactory(name="ops")}


@pytest.fixture
def directory(tmp_path, settings, places):
    """slapd with alice (devs, cloud-users) and bob (ops, cloud-users), and cloudmgr configured for it."""
    with Slapd(tmp_path / "slapd") as slapd:
        slapd.populate(SERVICE_PASSWORD)
        slapd.add_user("alice", ALICE_PASSWORD, full_name="Alice Liddell")
        slapd.add_user("bob", BOB_PASSWORD)
        slapd.add_group("devs", ["alice"])
        slapd.add_group("ops", ["bob"])
        slapd.add_group("cloud-users", ["alice", "bob"])
        password_file = tmp_path / "bind-password"
        password_file.write_text(SERVICE_PASSWORD + "\n")
        settings.CLOUDMGR_LDAP_ENABLED = True
        settings.CLOUDMGR_LDAP_SERVER_URI = slapd.uri
        settings.CLOUDMGR_LDAP_BIND_DN = SERVICE_DN
        settings.CLOUDMGR_LDAP_BIND_PASSWORD = ""
        settings.CLOUDMGR_LDAP_BIND_PASSWORD_FILE = str(password_file)
        settings.CLOUDMGR_LDAP_USER_DN_TEMPLATE = ""
        settings.CLOUDMGR_LDAP_USER_SEARCH_BASE = PEOPLE
        settings.CLOUDMGR_LDAP_GROUP_SEARCH_BASE = GROUPS
        settings.CLOUDMGR_LDAP_GROUP_SEARCH_FILTER = "(objectClass=groupOfNames)"
        settings.CLOUDMGR_LDAP_GROUP_TYPE = "groupOfNames"
        settings.CLOUDMGR_LDAP_REQUIRE_GROUP = slapd.group_dn("cloud-users")
        settings.CLOUDMGR_LDAP_DOMAIN = "directory"
        settings.CLOUDMGR_LDAP_GROUP_ROLES = json.dumps(
            [
                {
                    "group": slapd.group_dn("devs"),
                    "role": policy.PROJECT_MEMBER,
                    "project": str(places["project"].id),
                },
                {"group": slapd.group_dn("ops").upper(), "role": policy.DOMAIN_ADMIN, "domain": "ops"},
            ]
        )
        yield slapd


def token_request(username, password, **scope):
    return APIClient().post(
        "/api/v1/auth/tokens/",
        {"username": username, "password": password, **{k: str(v) for k, v in scope.items()}},
        format="json",
    )


def held_roles(user):
    return {
        (a.role.name, a.project_id or a.domain_id)
        for a in RoleAssignment.objects.filter(user=user).select_related("role")
    }


def test_a_directory_user_logs_in_and_is_created_in_the_configured_domain(directory, places):
    response = token_request("alice", ALICE_PASSWORD)
    assert response.status_code == 201, response.content
    alice = User.objects.get(username="alice")
    assert (alice.source, alice.domain, alice.full_name, alice.email) == (
        "ldap",
        places["home"],
        "Alice Liddell",
        "alice@example.test",
    )
    assert not alice.has_usable_password()
    created = AuditEvent.objects.get(action="identity.user.create", object_id=str(alice.pk))
    assert created.actor_name == "system:ldap"


def test_directory_groups_map_to_project_and_domain_roles(directory, places):
    assert token_request("alice", ALICE_PASSWORD).status_code == 201
    assert token_request("bob", BOB_PASSWORD).status_code == 201
    alice, bob = User.objects.get(username="alice"), User.objects.get(username="bob")
    assert held_roles(alice) == {(policy.PROJECT_MEMBER, places["project"].id)}
    assert held_roles(bob) == {(policy.DOMAIN_ADMIN, places["ops_domain"].id)}
    scoped = token_request("alice", ALICE_PASSWORD, project_id=places["project"].id)
    assert scoped.status_code == 201


def test_a_directory_user_signs_in_to_the_dashboard_and_the_session_holds_until_they_are_disabled(
    directory, places
):
    browser = Client()
    assert browser.post("/login/", {"username": "alice", "password": ALICE_PASSWORD}).status_code == 302
    overview = reverse("portal:project-overview", args=[places["project"].pk])
    assert browser.get(overview).status_code == 200
    User.objects.filter(username="alice").update(is_active=False)
    assert browser.get(overview).status_code == 302


def test_a_wrong_directory_password_is_refused_and_creates_nobody(directory):
    response = token_request("alice", "not-her-password")
    assert response.status_code == 401
    assert response.data["error"]["code"] == "invalid_credentials"
    assert not User.objects.filter(username="alice").exists()


def test_a_user_removed_from_a_group_loses_its_role_at_the_next_login(directory, places):
    first = token_request("alice", ALICE_PASSWORD).data["token"]
    directory.remove_from_group("devs", "alice")
    assert token_request("alice", ALICE_PASSWORD).status_code == 201
    assert held_roles(User.objects.get(username="alice")) == set()
    # Taking the role away revoked the tokens issued while she held it.
    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Bearer {first}")
    assert old.get("/api/v1/projects/").data["error"]["code"] == "token_revoked"


def test_a_user_added_to_a_group_gets_its_role_at_the_next_login(directory, places):
    assert token_request("bob", BOB_PASSWORD).status_code == 201
    directory.add_to_group("devs", "bob")
    assert token_request("bob", BOB_PASSWORD).status_code == 201
    assert (policy.PROJECT_MEMBER, places["project"].id) in held_roles(User.objects.get(username="bob"))


def test_roles_given_by_hand_are_left_alone_by_the_mapping(directory):
    assert token_request("alice", ALICE_PASSWORD).status_code == 201
    alice = User.objects.get(username="alice")
    elsewhere = ProjectFactory()
    grant(alice, policy.PROJECT_READER, elsewhere)
    directory.remove_from_group("devs", "alice")
    assert token_request("alice", ALICE_PASSWORD).status_code == 201
    assert held_roles(alice) == {(policy.PROJECT_READER, elsewhere.id)}


def test_a_user_outside_the_required_group_cannot_log_in(directory):
    directory.remove_from_group("cloud-users", "alice")
    assert token_request("alice", ALICE_PASSWORD).status_code == 401


def test_a_local_user_of_the_same_name_is_never_logged_in_from_the_directory(directory):
    local = UserFactory(username="alice")
    assert token_request("alice", ALICE_PASSWORD).status_code == 401
    assert login(local).get("/api/v1/projects/").status_code == 200
    assert User.objects.get(username="alice").source == "local"


def test_a_user_disabled_in_cloudmgr_stays_refused_whatever_the_directory_says(directory):
    assert token_request("alice", ALICE_PASSWORD).status_code == 201
    User.objects.filter(username="alice").update(is_active=False)
    assert token_request("alice", ALICE_PASSWORD).status_code == 401


def test_usernames_are_matched_without_regard_to_case(directory):
    assert token_request("Alice", ALICE_PASSWORD).status_code == 201
    assert token_request("alice", ALICE_PASSWORD).status_code == 201
    assert list(User.objects.filter(username__iexact="alice").values_list("username", flat=True)) == ["alice"]


def test_a_dn_template_works_as_well_as_a_search(directory, settings):
    settings.CLOUDMGR_LDAP_USER_DN_TEMPLATE = f"uid=%(user)s,{PEOPLE}"
    settings.CLOUDMGR_LDAP_USER_SEARCH_BASE = ""
    assert authenticate(None, username="bob", password=BOB_PASSWORD).source == "ldap"
    assert authenticate(None, username="bob", password="wrong") is None


def test_a_user_deleted_from_the_directory_cannot_log_in_and_the_sync_stops_their_tokens_and_keys(
    directory, places
):
    token = token_request("alice", ALICE_PASSWORD).data["token"]
    alice = User.objects.get(username="alice")
    with_token = APIClient()
    with_token.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    signed = SignedApi(*create_key(alice, places["project"], api=with_token)[:2])
    assert signed.get("/api/v1/projects/").status_code == 200
    directory.delete(directory.user_dn("alice"))
    assert token_request("alice", ALICE_PASSWORD).status_code == 401
    assert sync_directory_users() == 1
    alice.refresh_from_db()
    assert not alice.is_active
    assert with_token.get("/api/v1/projects/").data["error"]["code"] == "token_revoked"
    assert signed.get("/api/v1/projects/").data["error"]["code"] == "api_key_disabled"
    assert not ApiKey.objects.filter(user=alice, enabled=True).exists()


def test_the_sync_disables_a_user_taken_out_of_the_required_group_and_nobody_else(directory):
    for name, password in (("alice", ALICE_PASSWORD), ("bob", BOB_PASSWORD)):
        assert token_request(name, password).status_code == 201
    directory.remove_from_group("cloud-users", "bob")
    assert sync_directory_users() == 1
    active = dict(User.objects.filter(source="ldap").values_list("username", "is_active"))
    assert active == {"alice": True, "bob": False}


def test_the_sync_disables_nobody_when_the_directory_cannot_be_reached(directory):
    assert token_request("alice", ALICE_PASSWORD).status_code == 201
    directory.stop()
    with pytest.raises(ldap.SERVER_DOWN):
        sync_directory_users()
    with pytest.raises(CommandError, match="directory_unreachable"):
        call_command("syncdirectory")
    assert User.objects.get(username="alice").is_active


def test_the_sync_command_reports_how_many_users_it_disabled(directory):
    assert token_request("bob", BOB_PASSWORD).status_code == 201
    directory.delete(directory.user_dn("bob"))
    out = io.StringIO()
    call_command("syncdirectory", stdout=out)
    assert out.getvalue().strip() == "disabled 1 directory users"


def test_neither_the_bind_password_nor_a_users_password_is_logged(directory, caplog):
    caplog.set_level(logging.DEBUG)
    assert token_request("alice", ALICE_PASSWORD).status_code == 201
    assert token_request("bob", "a-wrong-password").status_code == 401
    sync_directory_users()
    assert "cn=cloudmgr" in caplog.text  # the LDAP library did log at DEBUG
    for secret in (SERVICE_PASSWORD, ALICE_PASSWORD, "a-wrong-password"):
        assert secret not in caplog.text


def test_nothing_answers_from_the_directory_while_ldap_is_disabled(directory, settings):
    settings.CLOUDMGR_LDAP_ENABLED = False
    assert token_request("alice", ALICE_PASSWORD).status_code == 401
    assert sync_directory_users() == 0
