"""Signed requests: a good one through each verb, and every refusal with its own code."""

import hashlib
import socket
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.core import policy
from apps.identity.api.apikey_authentication import ApiKeyAuthentication
from apps.identity.apikeys.nonces import POSTGRESQL
from apps.identity.tests.factories import PASSWORD, DomainFactory, ProjectFactory, UserFactory, grant
from apps.identity.tests.signing import SignedApi, as_meta, create_key
from cloudmgr.client import format_date, sign


@pytest.fixture(params=["redis", POSTGRESQL])
def nonce_store(request, settings):
    """Every test here runs once with each nonce store."""
    settings.CLOUDMGR_API_KEY_NONCE_STORE = (
        "redis://127.0.0.1:6379/0" if request.param == "redis" else POSTGRESQL
    )
    return request.param


@pytest.fixture
def key(member, project, nonce_store):
    return create_key(member, project)


@pytest.fixture
def signed(key):
    access_key, secret, _ = key
    return SignedApi(access_key, secret)


def error_code(response):
    return response.data["error"]["code"]


def test_a_signed_get_with_a_query_lists_the_keys_project(signed, project):
    response = signed.get(f"/api/v1/projects/?name={project.name}&enabled=true")
    assert response.status_code == 200
    assert [p["id"] for p in response.data["results"]] == [str(project.id)]


def test_a_signed_post_with_a_json_body_changes_the_users_password(signed):
    response = signed.post(
        "/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "a-new-long-password"}
    )
    assert response.status_code == 204


def test_a_signed_patch_renames_a_key(signed, key):
    response = signed.patch(f"/api/v1/api-keys/{key[2]}/", {"name": "renamed"})
    assert response.status_code == 200
    assert response.data["name"] == "renamed"


def test_a_signed_delete_removes_another_key_of_the_user(signed, member, project):
    _, _, other_id = create_key(member, project, name="other")
    assert signed.delete(f"/api/v1/api-keys/{other_id}/").status_code == 204


def test_the_same_signed_request_is_refused_the_second_time(signed):
    prepared = signed.prepare("GET", "/api/v1/projects/")
    assert signed.send(prepared).status_code == 200
    replay = signed.send(prepared)
    assert replay.status_code == 401
    assert error_code(replay) == "nonce_reused"


def test_a_wrong_secret_is_a_bad_signature(key):
    access_key, secret, _ = key
    response = SignedApi(access_key, secret[:-1] + ("x" if secret[-1] != "x" else "y")).get(
        "/api/v1/projects/"
    )
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"


@pytest.mark.parametrize(
    "tamper",
    [
        {"PATH_INFO": "/api/v1/domains/"},
        {"QUERY_STRING": "name=other"},
        {"REQUEST_METHOD": "DELETE"},
    ],
    ids=["path", "query", "method"],
)
def test_a_request_changed_after_signing_is_a_bad_signature(signed, tamper):
    method, path, body, meta = signed.prepare("GET", "/api/v1/projects/?name=mine")
    response = signed.client.generic(method, path, body, **{**meta, **tamper})
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"


def test_a_body_that_does_not_match_its_signed_hash_is_refused(signed):
    method, path, _, meta = signed.prepare("POST", "/api/v1/auth/password/", {"old_password": "x"})
    other_body = b'{"old_password": "y"}'
    response = signed.client.generic(method, path, other_body, content_type="application/json", **meta)
    assert response.status_code == 400
    assert error_code(response) == "body_hash_mismatch"


@pytest.mark.parametrize("offset_seconds", [-301, 301], ids=["too-old", "too-far-ahead"])
def test_a_timestamp_outside_the_window_is_refused(signed, offset_seconds):
    date = format_date(timezone.now() + timedelta(seconds=offset_seconds))
    response = signed.request("GET", "/api/v1/projects/", date=date)
    assert response.status_code == 401
    assert error_code(response) == "timestamp_out_of_window"


def test_the_window_is_a_setting(signed, settings):
    settings.CLOUDMGR_API_KEY_SIGNATURE_WINDOW_SECONDS = 1000
    date = format_date(timezone.now() - timedelta(seconds=900))
    assert signed.request("GET", "/api/v1/projects/", date=date).status_code == 200


@pytest.mark.parametrize(
    "header",
    ["HTTP_X_CLOUDMGR_NONCE", "HTTP_X_CLOUDMGR_DATE", "HTTP_X_CLOUDMGR_CONTENT_SHA256"],
)
def test_a_signed_request_missing_a_header_is_malformed(signed, header):
    method, path, body, meta = signed.prepare("GET", "/api/v1/projects/")
    del meta[header]
    response = signed.client.generic(method, path, body, **meta)
    assert response.status_code == 401
    assert error_code(response) == "malformed_signature"


def test_an_unknown_access_key_is_refused(signed):
    response = SignedApi("CMKNOSUCHKEY0000", signed.secret).get("/api/v1/projects/")
    assert response.status_code == 401
    assert error_code(response) == "unknown_api_key"


def test_deleting_the_key_stops_it_on_the_next_request(signed, member, key):
    from apps.conftest import login

    assert signed.get("/api/v1/projects/").status_code == 200
    assert login(member).delete(f"/api/v1/api-keys/{key[2]}/").status_code == 204
    response = signed.get("/api/v1/projects/")
    assert (response.status_code, error_code(response)) == (401, "unknown_api_key")


def test_a_disabled_key_is_refused(signed, member, key):
    from apps.conftest import login

    login(member).patch(f"/api/v1/api-keys/{key[2]}/", {"enabled": False}, format="json")
    response = signed.get("/api/v1/projects/")
    assert (response.status_code, error_code(response)) == (401, "api_key_disabled")


def test_disabling_the_user_stops_their_key_on_the_next_request(signed, member, admin_api):
    assert (
        admin_api.patch(f"/api/v1/users/{member.id}/", {"is_active": False}, format="json").status_code == 200
    )
    response = signed.get("/api/v1/projects/")
    assert (response.status_code, error_code(response)) == (401, "user_disabled")


def test_removing_the_users_role_stops_their_key_on_the_next_request(signed, member, admin_api):
    assignment = member.assignments.get()
    assert admin_api.delete(f"/api/v1/role-assignments/{assignment.id}/").status_code == 204
    response = signed.get("/api/v1/projects/")
    assert (response.status_code, error_code(response)) == (401, "role_missing")


@pytest.mark.parametrize(("above", "code"), [("user", "domain_disabled"), ("project", "project_disabled")])
def test_disabling_a_domain_above_the_user_or_the_project_stops_the_key(
    root, admin_api, nonce_store, above, code
):
    parent = DomainFactory()
    below = DomainFactory(parent=parent)
    user = UserFactory(domain=below) if above == "user" else UserFactory()
    project = ProjectFactory(domain=below) if above == "project" else ProjectFactory()
    grant(user, policy.PROJECT_MEMBER, project)
    signed = SignedApi(*create_key(user, project)[:2])
    assert (
        admin_api.patch(f"/api/v1/domains/{parent.id}/", {"enabled": False}, format="json").status_code == 200
    )
    response = signed.get("/api/v1/projects/")
    assert (response.status_code, error_code(response)) == (401, code)


def test_disabling_the_keys_project_stops_the_key(signed, project, admin_api):
    assert (
        admin_api.patch(f"/api/v1/projects/{project.id}/", {"enabled": False}, format="json").status_code
        == 200
    )
    response = signed.get("/api/v1/projects/")
    assert (response.status_code, error_code(response)) == (401, "project_disabled")


def test_a_key_sealed_under_a_passphrase_no_longer_configured_is_unusable(signed, settings):
    settings.CLOUDMGR_API_KEY_ENCRYPTION_KEY = "a-new-passphrase"
    response = signed.get("/api/v1/projects/")
    assert (response.status_code, error_code(response)) == (401, "api_key_unusable")
    settings.CLOUDMGR_API_KEY_ENCRYPTION_OLD_KEYS = [settings.SECRET_KEY]
    assert signed.get("/api/v1/projects/").status_code == 200


def test_an_unreachable_nonce_store_refuses_with_503(signed, settings):
    with socket.socket() as probe:  # a port nobody listens on: Redis really cannot be reached
        probe.bind(("127.0.0.1", 0))
        settings.CLOUDMGR_API_KEY_NONCE_STORE = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
        response = signed.get("/api/v1/projects/")
    assert (response.status_code, error_code(response)) == (503, "nonce_store_unavailable")


def test_authenticating_a_signed_request_takes_at_most_two_sql_statements(key, nonce_store):
    access_key, secret, _ = key
    path = "/api/v1/projects/"

    def signed_request():
        headers = sign(access_key, secret, "GET", path, hashlib.sha256(b"").hexdigest())
        return Request(APIRequestFactory().get(path, **as_meta(headers)))

    # The first request on a connection also prepares the statement (apps/core/prepared.py).
    ApiKeyAuthentication().authenticate(signed_request())
    request = signed_request()
    with CaptureQueriesContext(connection) as queries:
        _, principal = ApiKeyAuthentication().authenticate(request)
        assert principal.can("identity.project.read", principal.scope_project.target())
    assert len(queries) == (2 if nonce_store == POSTGRESQL else 1), [q["sql"] for q in queries]
