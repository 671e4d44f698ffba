"""Fixtures shared by every app's tests: the ROOT domain with default roles, and API clients."""

import pytest
from rest_framework.test import APIClient

from apps.core import policy
from apps.identity.services.bootstrap import bootstrap
from apps.identity.tests.factories import PASSWORD, ProjectFactory, UserFactory, grant

# The browser fixtures are registered here, once: a second session-scoped Playwright would
# start inside the first one's event loop and fail.
from apps.portal.tests.browser import browsing, chromium  # noqa: F401


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
def project(root):
    return ProjectFactory()


@pytest.fixture
def member(project):
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_MEMBER, project)
    return user


@pytest.fixture
def reader(project):
    """A project reader: sees the project's resources, changes nothing."""
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_READER, project)
    return user


@pytest.fixture
def api(member, project):
    """A project member's client with a project-scoped token."""
    return login(member, project_id=project.pk)


@pytest.fixture
def cloud_admin(root):
    user = UserFactory(domain=root, username="cloud-admin")
    grant(user, policy.CLOUD_ADMIN, root)
    return user


@pytest.fixture
def admin_api(cloud_admin):
    return login(cloud_admin)


@pytest.fixture
def start_controller(transactional_db, tmp_path):
    """Start real `runcontroller` processes on the test database (apps/core/tests/controllers.py).

    `start_controller("a", environment={...}, test_modules=[...], ready=True)` returns a
    ControllerProcess; every one still running at teardown is killed, pass or fail.
    """
    from django.db import connection

    from apps.core.tests.controllers import controller_starter

    start, started = controller_starter(connection.settings_dict, tmp_path)
    yield start
    for controller in started:
        controller.kill()
        print(f"--- log of controller {controller.name} ---\n{controller.log()}")


@pytest.fixture(scope="session", autouse=True)
def _image_store_outside_the_source_tree(tmp_path_factory):
    """Image data written by any test (e.g. the isolation checks' uploads) goes to a temporary store."""
    from django.conf import settings

    settings.CLOUDMGR_IMAGE_STORE_DIR = str(tmp_path_factory.mktemp("image-store"))


@pytest.fixture(scope="session", autouse=True)
def _close_audit_connection_before_teardown(django_db_setup, django_db_blocker):
    """Leave no session on the test database so it can be dropped at the end.

    The `audit` alias has its own connection, and live_server request threads
    keep theirs; end them all before pytest-django drops the database.
    """
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connections["audit"].close()
