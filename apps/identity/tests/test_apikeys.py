"""API keys: creating, listing, disabling and deleting them, and who may do what."""

import io
import logging

import pytest
from django.core.management import call_command

from apps.audit.models import AuditEvent
from apps.conftest import login
from apps.core import policy
from apps.identity.models import ApiKey
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.identity.tests.signing import SignedApi, create_key


def member_of(project, role=policy.PROJECT_MEMBER):
    user = UserFactory(domain=project.domain)
    grant(user, role, project)
    return user


def test_a_member_creates_a_key_and_gets_its_secret_in_that_response_only(root):
    project = ProjectFactory()
    api = login(member_of(project))
    created = api.post("/api/v1/api-keys/", {"project_id": str(project.id), "name": "ci"}, format="json")
    assert created.status_code == 201
    assert created.data["access_key"].startswith("CMK")
    assert len(created.data["secret"]) >= 40
    listed = api.get("/api/v1/api-keys/").data["results"]
    assert [k["access_key"] for k in listed] == [created.data["access_key"]]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/api/v1/api-keys/{created.data['id']}/").data


def test_the_secret_is_stored_sealed_and_never_logged_or_audited(root, caplog):
    caplog.set_level(logging.DEBUG)
    project = ProjectFactory()
    user = member_of(project)
    access_key, secret, key_id = create_key(user, project)
    assert SignedApi(access_key, secret).get("/api/v1/projects/").status_code == 200
    sealed = bytes(ApiKey.objects.get(pk=key_id).sealed_secret)
    assert secret.encode() not in sealed
    assert secret not in caplog.text
    events = AuditEvent.objects.filter(action="identity.api_key.create")
    assert events.count() == 1
    assert secret not in str(events.get().details)


def test_a_reader_may_create_a_key_on_their_project(root):
    project = ProjectFactory()
    api = login(member_of(project, policy.PROJECT_READER))
    response = api.post("/api/v1/api-keys/", {"project_id": str(project.id)}, format="json")
    assert response.status_code == 201


def test_a_user_cannot_create_a_key_on_a_project_where_they_hold_no_role(root):
    mine, theirs = ProjectFactory(), ProjectFactory()
    api = login(member_of(mine))
    response = api.post("/api/v1/api-keys/", {"project_id": str(theirs.id)}, format="json")
    assert response.status_code == 404


def test_a_key_cannot_be_created_on_a_disabled_project(root):
    project = ProjectFactory()
    admin = UserFactory(domain=project.domain)
    grant(admin, policy.DOMAIN_ADMIN, project.domain)
    member_api, admin_api = login(member_of(project)), login(admin)
    project.enabled = False
    project.save()
    body = {"project_id": str(project.id)}
    # Roles on a disabled project count for nothing, so its member no longer sees it.
    assert member_api.post("/api/v1/api-keys/", body, format="json").status_code == 404
    response = admin_api.post("/api/v1/api-keys/", body, format="json")
    assert response.status_code == 403
    assert response.data["error"]["code"] == "project_disabled"


def test_keys_beyond_the_configured_maximum_are_refused_with_409(root, settings):
    settings.CLOUDMGR_API_KEYS_MAX_PER_USER = 2
    project = ProjectFactory()
    api = login(member_of(project))
    for _ in range(2):
        assert (
            api.post("/api/v1/api-keys/", {"project_id": str(project.id)}, format="json").status_code == 201
        )
    response = api.post("/api/v1/api-keys/", {"project_id": str(project.id)}, format="json")
    assert response.status_code == 409
    assert response.data["error"]["code"] == "api_key_limit_reached"
    assert response.data["error"]["details"] == {"limit": 2}


def test_a_request_signed_with_a_key_cannot_create_keys(root):
    project = ProjectFactory()
    signed = SignedApi(*create_key(member_of(project), project)[:2])
    response = signed.post("/api/v1/api-keys/", {"project_id": str(project.id)})
    assert response.status_code == 403
    assert response.data["error"]["code"] == "api_key_not_allowed"


def test_other_users_do_not_see_a_users_keys_but_their_domain_admin_does(root):
    project = ProjectFactory()
    owner = member_of(project)
    create_key(owner, project)
    colleague = member_of(project)
    assert login(colleague).get("/api/v1/api-keys/").data["results"] == []
    admin = UserFactory(domain=project.domain)
    grant(admin, policy.DOMAIN_ADMIN, project.domain)
    outsider = UserFactory(domain=DomainFactory())
    grant(outsider, policy.DOMAIN_ADMIN, outsider.domain)
    assert [k["username"] for k in login(admin).get("/api/v1/api-keys/").data["results"]] == [owner.username]
    assert login(outsider).get("/api/v1/api-keys/").data["results"] == []


def test_a_key_disabled_by_an_admin_can_only_be_enabled_by_an_admin(root):
    project = ProjectFactory()
    owner = member_of(project)
    access_key, secret, key_id = create_key(owner, project)
    admin = UserFactory(domain=project.domain)
    grant(admin, policy.DOMAIN_ADMIN, project.domain)
    admin_api, owner_api = login(admin), login(owner)
    url = f"/api/v1/api-keys/{key_id}/"
    assert admin_api.patch(url, {"enabled": False}, format="json").data["disabled_by_admin"] is True
    refused = owner_api.patch(url, {"enabled": True}, format="json")
    assert refused.status_code == 403
    assert refused.data["error"]["code"] == "disabled_by_administrator"
    assert admin_api.patch(url, {"enabled": True}, format="json").data["enabled"] is True
    assert SignedApi(access_key, secret).get("/api/v1/projects/").status_code == 200


def test_an_owner_disables_and_enables_their_own_key(root):
    project = ProjectFactory()
    owner = member_of(project)
    access_key, secret, key_id = create_key(owner, project)
    api = login(owner)
    assert api.patch(f"/api/v1/api-keys/{key_id}/", {"enabled": False}, format="json").status_code == 200
    assert SignedApi(access_key, secret).get("/api/v1/projects/").status_code == 401
    assert api.patch(f"/api/v1/api-keys/{key_id}/", {"enabled": True}, format="json").status_code == 200
    assert SignedApi(access_key, secret).get("/api/v1/projects/").status_code == 200


def test_a_colleague_cannot_touch_a_users_key(root):
    project = ProjectFactory()
    _, _, key_id = create_key(member_of(project), project)
    colleague = login(member_of(project))
    assert (
        colleague.patch(f"/api/v1/api-keys/{key_id}/", {"enabled": False}, format="json").status_code == 404
    )
    assert colleague.delete(f"/api/v1/api-keys/{key_id}/").status_code == 404
    assert ApiKey.objects.get(pk=key_id).enabled


def test_an_admin_deletes_a_users_key_and_it_is_audited(root):
    project = ProjectFactory()
    _, _, key_id = create_key(member_of(project), project)
    admin = UserFactory(domain=project.domain)
    grant(admin, policy.DOMAIN_ADMIN, project.domain)
    assert login(admin).delete(f"/api/v1/api-keys/{key_id}/").status_code == 204
    assert not ApiKey.objects.filter(pk=key_id).exists()
    event = AuditEvent.objects.get(action="identity.api_key.delete")
    assert (event.actor_name, event.outcome) == (admin.username, "success")


@pytest.mark.parametrize("field", ["enabled", "name"])
def test_a_key_can_change_its_own_name_or_disable_itself_but_not_enable_keys(root, field):
    project = ProjectFactory()
    owner = member_of(project)
    signed = SignedApi(*create_key(owner, project)[:2])
    _, _, other_id = create_key(owner, project, name="other")
    login(owner).patch(f"/api/v1/api-keys/{other_id}/", {"enabled": False}, format="json")
    value = False if field == "enabled" else "renamed"
    assert signed.patch(f"/api/v1/api-keys/{other_id}/", {field: value}).status_code == 200
    refused = signed.patch(f"/api/v1/api-keys/{other_id}/", {"enabled": True})
    assert refused.status_code == 403
    assert refused.data["error"]["code"] == "api_key_not_allowed"


def test_after_a_passphrase_rotation_resealing_keeps_keys_working_without_the_old_passphrase(root, settings):
    settings.CLOUDMGR_API_KEY_ENCRYPTION_KEY = "first-passphrase"
    project = ProjectFactory()
    signed = SignedApi(*create_key(member_of(project), project)[:2])
    settings.CLOUDMGR_API_KEY_ENCRYPTION_KEY = "second-passphrase"
    settings.CLOUDMGR_API_KEY_ENCRYPTION_OLD_KEYS = ["first-passphrase"]
    out = io.StringIO()
    call_command("resealapikeys", stdout=out)
    assert out.getvalue().strip() == "resealed 1 API keys"
    settings.CLOUDMGR_API_KEY_ENCRYPTION_OLD_KEYS = []
    assert signed.get("/api/v1/projects/").status_code == 200


def test_a_domain_admin_cannot_disable_the_keys_of_a_user_who_holds_more_than_it_does(root):
    domain = DomainFactory()
    project = ProjectFactory(domain=domain)
    mightier = member_of(project)
    grant(mightier, policy.CLOUD_ADMIN, root)
    _, _, key_id = create_key(mightier, project)
    admin = UserFactory(domain=domain)
    grant(admin, policy.DOMAIN_ADMIN, domain)
    response = login(admin).patch(f"/api/v1/api-keys/{key_id}/", {"enabled": False}, format="json")
    assert response.status_code == 403
    assert response.data["error"]["code"] == "delegation_exceeded"
    assert ApiKey.objects.get(pk=key_id).enabled
