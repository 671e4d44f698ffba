"""What the audit log records of every change: who, what, which object, when, where from, how, outcome."""

import getpass

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.conftest import login
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.models import Project
from apps.identity.tests.commands import call
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.quotas import services


@pytest.fixture
def acme(root):
    return DomainFactory(name="acme")


def test_an_api_change_records_who_what_which_object_when_where_from_how_and_the_outcome(
    acme, admin_api, cloud_admin
):
    before = timezone.now()
    response = admin_api.post("/api/v1/projects/", {"name": "web", "domain_id": str(acme.pk)}, format="json")
    after = timezone.now()

    event = AuditEvent.objects.get(action="identity.project.create")
    assert (event.actor_id, event.actor_name) == (cloud_admin.pk, "cloud-admin")
    assert (event.object_type, event.object_id, event.object_repr) == (
        "identity.project",
        response.data["id"],
        "web",
    )
    assert before <= event.timestamp <= after
    assert (event.client_address, event.interface, event.outcome) == ("127.0.0.1", "api", "success")
    assert (event.domain_path, str(event.project_id)) == (acme.path, response.data["id"])
    assert (event.error_code, event.error_message) == ("", "")


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "recorded"),
    [
        (["127.0.0.1"], "203.0.113.9", "203.0.113.9"),
        (["127.0.0.0/8", "10.0.0.0/8"], "198.51.100.7, 203.0.113.9, 10.1.2.3", "203.0.113.9"),
        ([], "203.0.113.9", "127.0.0.1"),
        (["10.0.0.0/8"], "203.0.113.9", "127.0.0.1"),
    ],
    ids=["trusted-proxy", "trusted-chain", "no-trusted-proxy", "peer-not-trusted"],
)
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    acme, admin_api, settings, trusted, forwarded_for, recorded
):
    settings.CLOUDMGR_TRUSTED_PROXIES = trusted

    admin_api.patch(
        f"/api/v1/domains/{acme.pk}/", {"description": "x"}, format="json", HTTP_X_FORWARDED_FOR=forwarded_for
    )

    assert AuditEvent.objects.get(action="identity.domain.update").client_address == recorded


def test_a_refused_change_is_recorded_with_its_error_and_who_tried(acme):
    web = ProjectFactory(name="web", domain=acme)
    reader = UserFactory(domain=acme)
    grant(reader, policy.PROJECT_READER, web)

    login(reader).patch(f"/api/v1/projects/{web.pk}/", {"name": "mine"}, format="json")

    event = AuditEvent.objects.using("audit").get(action="identity.project.update")
    assert (event.actor_name, event.outcome, event.error_code) == (
        reader.username,
        "failure",
        "permission_denied",
    )
    assert event.error_message == "You may not change project web."
    assert (event.object_id, event.project_id) == (str(web.pk), web.pk)


@pytest.mark.django_db(transaction=True)
def test_a_failure_is_recorded_although_the_operation_rolled_back(acme, admin_api):
    web = ProjectFactory(name="web", domain=acme)
    services.claim(web, {"instances": 2}, UserFactory(domain=acme))
    target = DomainFactory(name="small")
    services.set_limit(Actor.system(), target, "instances", 1)

    response = admin_api.post(
        f"/api/v1/projects/{web.pk}/move/", {"domain_id": str(target.pk)}, format="json"
    )

    assert response.status_code == 409
    (event,) = AuditEvent.objects.filter(action="identity.project.move")
    assert (event.outcome, event.error_code, event.object_id) == ("failure", "quota_exceeded", str(web.pk))
    assert Project.objects.get(pk=web.pk).domain_id == acme.pk
    assert services.usage_of(target)["instances"] == (1, 0)


def test_a_failed_login_is_recorded_as_anonymous_with_the_name_tried_and_the_address(root, client):
    UserFactory(username="alice")

    client.post(
        "/api/v1/auth/tokens/",
        {"username": "alice", "password": "wrong"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.44",
    )

    event = AuditEvent.objects.using("audit").get(action="identity.token.create")
    assert (event.actor_id, event.actor_name, event.client_address) == (None, "anonymous", "192.0.2.44")
    assert (event.outcome, event.error_code, event.details) == (
        "failure",
        "invalid_credentials",
        {"username": "alice"},
    )


def test_command_line_changes_are_recorded_with_the_cli_interface_and_the_os_account(acme):
    call("createproject", "web", "--domain", "acme")
    with pytest.raises(Exception, match="already_exists"):
        call("createproject", "web", "--domain", "acme")

    success = AuditEvent.objects.get(action="identity.project.create")
    failure = AuditEvent.objects.using("audit").get(action="identity.project.create", outcome="failure")
    for event in (success, failure):
        assert (event.actor_id, event.actor_name, event.interface) == (None, "system:cli", "cli")
        assert event.details["os_user"] == getpass.getuser()
    assert (success.outcome, success.object_repr) == ("success", "web")
    assert failure.error_code == "already_exists"


def test_a_deletion_records_which_object_it_deleted(acme, admin_api):
    web = ProjectFactory(name="web", domain=acme)
    bob = UserFactory(username="bob", domain=acme)
    assignment = grant(bob, policy.PROJECT_MEMBER, web)

    for url in (
        f"role-assignments/{assignment.pk}",
        f"users/{bob.pk}",
        f"projects/{web.pk}",
        f"domains/{acme.pk}",
    ):
        assert admin_api.delete(f"/api/v1/{url}/").status_code == 204, url

    recorded = AuditEvent.objects.filter(action__endswith=".delete").order_by("id")
    assert [(e.action, e.object_id, e.object_repr) for e in recorded] == [
        ("identity.role_assignment.delete", str(assignment.pk), f"bob has {policy.PROJECT_MEMBER} on web"),
        ("identity.user.delete", str(bob.pk), "bob"),
        ("identity.project.delete", str(web.pk), "web"),
        ("identity.domain.delete", str(acme.pk), "acme"),
    ]


def test_bootstrap_records_the_cloud_admin_it_creates_or_gives_a_new_password(db):
    call("bootstrap", "--admin-username", "operator", "--admin-password", "a-first-long-password")
    call("bootstrap")
    call("bootstrap", "--admin-username", "operator", "--admin-password", "a-second-long-password")

    events = AuditEvent.objects.filter(action="identity.bootstrap.admin").order_by("id")
    assert [(e.object_repr, e.interface, e.outcome) for e in events] == [("operator", "cli", "success")] * 2
    assert [e.details["created"] for e in events] == [True, False]
    assert all(e.details["password_set"] for e in events)


def test_a_failure_that_is_no_refusal_is_logged_in_words_naming_its_error_only_for_the_platform(
    acme, cloud_admin
):
    from django.db import DataError

    from apps.audit.recorder import audited
    from apps.audit.selectors import details_for
    from apps.core.tree import Target

    with (
        pytest.raises(DataError),
        audited(Actor.system("test"), "identity.project.create", target=Target(acme.path)),
    ):
        raise DataError("value too long for type character varying(64)")

    event = AuditEvent.objects.using("audit").get(action="identity.project.create")
    assert (event.error_code, event.error_message) == (
        "internal_error",
        "An internal error stopped the operation; the controller's log has the details.",
    )
    assert details_for(policy.Principal(cloud_admin), event) == {"platform": {"exception": "DataError"}}
    tenant_admin = UserFactory(domain=acme)
    grant(tenant_admin, policy.DOMAIN_ADMIN, acme)
    assert details_for(policy.Principal(tenant_admin), event) == {}
