"""Words the portal uses (the quota chart's labels, a role name's rule) and an administrator's switcher."""

import json
import re

from apps.core import policy
from apps.identity.models import Project, Role
from apps.identity.tests.factories import DomainFactory, UserFactory, grant
from apps.identity.web.selectors import SWITCHER_MAX
from apps.quotas import services as quotas

from .conftest import signed_in


def test_the_quota_charts_labels_are_the_words_of_the_list_beside_it(tenant):
    project = tenant.project
    quotas.claim(project, {"instances": 2, "ram_mb": 4096, "image_storage_gb": 3}, holder=project)
    page = signed_in(tenant.member).get(f"/dashboard/projects/{project.pk}/").content.decode()

    data = re.search(r'id="quota-chart-data" type="application/json">(.*?)</script>', page).group(1)
    chart = json.loads(data)
    listed = re.findall(r'<span class="quota-name">([^<]+?)\s*<', page)
    assert chart["labels"] == ["Instances", "Memory", "Image storage"]
    assert set(chart["labels"]) <= set(listed)
    assert "ram_mb" not in chart["labels"]


def test_a_role_name_is_refused_in_plain_words(admin_client):
    response = admin_client.post("/admin-portal/roles/new/", {"name": "network operator"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Use letters, digits, - and _ only, without spaces: network-operator, for instance." in page
    assert "slug" not in page.lower()
    assert not Role.objects.filter(name="network operator").exists()


def test_an_admins_switcher_lists_at_most_its_share_of_projects_and_links_to_all_of_them(root):
    domain = DomainFactory(name="big")
    Project.objects.bulk_create(Project(name=f"p-{n:03d}", domain=domain) for n in range(SWITCHER_MAX + 5))
    admin = UserFactory(domain=domain)
    grant(admin, policy.DOMAIN_ADMIN, domain)
    page = signed_in(admin).get("/admin-portal/").content.decode()

    switcher = page[
        page.index('id="project-switch"') : page.index("</form>", page.index('id="project-switch"'))
    ]
    assert switcher.count("<option") == SWITCHER_MAX
    assert ">big / p-000<" in switcher
    assert '<a href="/admin-portal/projects/">All projects</a>' in switcher
