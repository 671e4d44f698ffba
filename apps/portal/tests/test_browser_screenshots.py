"""Screenshots of the main pages at a laptop's and a phone's width, into test-artifacts/screenshots/.

Each page is also checked for what breaks at a narrow width: nothing may be
wider than the window (a table may scroll inside its own box).
"""

import pytest

from apps.core import policy
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.jobs import services as jobs
from apps.quotas import services as quotas

from .browser import LAPTOP, PHONE, overflowing, screenshot, sign_in

pytestmark = pytest.mark.browser


def pages(tenant, job):
    project = tenant.project
    return {
        "admin-overview": "/admin-portal/",
        "domains": "/admin-portal/domains/",
        "domain": f"/admin-portal/domains/{tenant.domain.pk}/",
        "projects": "/admin-portal/projects/",
        "project": f"/admin-portal/projects/{project.pk}/",
        "users": "/admin-portal/users/",
        "user": f"/admin-portal/users/{tenant.member.pk}/",
        "quotas": "/admin-portal/quotas/",
        "roles": "/admin-portal/roles/",
        "audit": "/admin-portal/audit/",
        "dashboard": f"/dashboard/projects/{project.pk}/",
        "members": f"/dashboard/projects/{project.pk}/members/",
        "activity": f"/dashboard/projects/{project.pk}/activity/",
        "job": f"/jobs/{job.pk}/",
        "account": "/account/",
    }


def populate(tenant):
    """Some usage, a second project, a running job: pages look as they do in use."""
    project = tenant.project
    quotas.set_limit(admin_actor(), project, "instances", 10)
    quotas.claim(project, {"instances": 7, "vcpus": 14, "ram_mb": 28672, "volume_gb": 120}, holder=project)
    second = ProjectFactory(domain=tenant.domain, name="analytics")
    grant(tenant.member, policy.PROJECT_READER, second)
    reader = UserFactory(domain=tenant.domain, username="rita")
    grant(reader, policy.PROJECT_READER, project)
    job = jobs.create_job("test.screenshot", target=project.target(), obj=project)
    jobs.take_next("screenshot-worker")
    jobs.report_progress(job.pk, 60, "Copying the image")
    return job


def admin_actor():
    from apps.core.actor import Actor

    return Actor.system("portal-test")


# Drawn and settled. frappe-charts first draws an empty frame (axis 0 to 5), then the data, whose
# axis reaches the 100 % limit marker; at rest every bar stands on the axis.
CHART_DRAWN = """() => {
  const labels = [...document.querySelectorAll("figure.quota-chart .y.axis text")].map(t => t.textContent);
  const bars = [...document.querySelectorAll("figure.quota-chart rect.bar")];
  const bottoms = new Set(bars.map(r => Math.round(+r.getAttribute("y") + +r.getAttribute("height"))));
  return labels.includes("100") && bottoms.size === 1
    && !document.querySelector("figure.quota-chart animate, figure.quota-chart animateTransform");
}"""


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_screenshots_of_the_main_pages(browsing, cloud_admin, tenant, viewport):
    grant(cloud_admin, policy.PROJECT_MEMBER, tenant.project)
    job = populate(tenant)
    page = browsing.new_page(viewport)
    page.goto("/login/")
    screenshot(page, "login")
    sign_in(page, cloud_admin.username)
    for name, url in pages(tenant, job).items():
        assert page.goto(url).status == 200, url
        sticking_out = overflowing(page)
        assert not sticking_out, f"{name}: wider than {viewport['width']}px: {sticking_out}"
        if page.locator("figure.quota-chart").count():
            page.wait_for_function(CHART_DRAWN)
        screenshot(page, name)
