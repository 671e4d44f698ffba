"""Fixtures shared by every app's tests: the ROOT domain with default roles, and API clients."""

import pytest
from rest_framework.test import APIClient

from apps.identity import policy
from apps.identity.services.bootstrap import bootstrap
from apps.identity.tests.factories import PASSWORD, UserFactory, grant


@pytest.fixture
def root(db):
    domain, _ = bootstrap()
    return domain


def login(user, password=PASSWORD, **scope):
    """An APIClient carrying a fresh token of `user` (scope: project_id= or domain_id=)."""
    client = APIClient()
    response = client.post(
        "/api/v1/auth/tokens/",
        {"username": user.username, "password": password, **{k: str(v) for k, v in scope.items()}},
        format="json",
    )
    assert response.status_code == 201, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.data['token']}")
    client.token = response.data["token"]
    return client


@pytest.fixture
def cloud_admin(root):
    user = UserFactory(domain=root, username="cloud-admin")
    grant(user, policy.CLOUD_ADMIN, root)
    return user


@pytest.fixture
def admin_api(cloud_admin):
    return login(cloud_admin)


@pytest.fixture(scope="session", autouse=True)
def _close_audit_connection_before_teardown(django_db_setup, django_db_blocker):
    """The `audit` alias has its own connection; close it so the test database can be dropped."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        connections["audit"].close()
