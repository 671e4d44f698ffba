"""Fixtures of the portal's tests: signed-in Django clients (the browser fixtures are in apps/conftest.py)."""

import pytest
from django.test import Client

from apps.core import policy
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant


def signed_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(cloud_admin):
    return signed_in(cloud_admin)


@pytest.fixture
def tenant(root):
    """A project in its own domain, with a member (a namespace object with .domain, .project, .member)."""
    return make_tenant()


class Tenant:
    def __init__(self):
        self.domain = DomainFactory()
        self.project = ProjectFactory(domain=self.domain)
        self.member = UserFactory(domain=self.domain)
        grant(self.member, policy.PROJECT_MEMBER, self.project)
        self.admin = UserFactory(domain=self.domain)
        grant(self.admin, policy.DOMAIN_ADMIN, self.domain)


def make_tenant():
    return Tenant()
