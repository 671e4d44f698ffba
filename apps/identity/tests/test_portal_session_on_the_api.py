"""A portal session used on the API is refused once the user's domain, or one above it, is disabled.

Tokens, API keys and the portal's own pages already refused it; the session on
the API must too, or a disabled domain's users would keep acting through it.
"""

import pytest
from django.test import Client

from apps.core import policy
from apps.identity.models import Domain
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant


@pytest.fixture
def signed_in(root):
    parent = DomainFactory(name="parent")
    project = ProjectFactory(domain=DomainFactory(parent=parent, name="child"))
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_MEMBER, project)
    client = Client()
    client.force_login(user)
    return client, project


@pytest.mark.parametrize("disabled", ["child", "parent"])
def test_a_session_of_a_disabled_domains_user_is_refused_on_the_api(signed_in, disabled):
    client, project = signed_in
    assert client.get("/api/v1/projects/").json()["results"][0]["id"] == str(project.pk)

    Domain.objects.filter(name=disabled).update(enabled=False)
    refused = client.get("/api/v1/projects/")

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "domain_disabled"
