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


def pages(tenant, job, estate):
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
        "zones": "/admin-portal/zones/",
        "zone": f"/admin-portal/zones/{estate['zone'].pk}/",
        "hosts": "/admin-portal/hosts/",
        "host-add": "/admin-portal/hosts/new/",
        "offerings": "/admin-portal/offerings/",
        "offering": f"/admin-portal/offerings/{estate['offering'].pk}/",
        "instances": "/admin-portal/instances/",
        "admin-instance": f"/admin-portal/instances/{estate['instance'].pk}/",
        "images": "/admin-portal/images/",
        "image": f"/admin-portal/images/{estate['image'].pk}/",
        "confirm-rule": f"/admin-portal/rules/{estate['rule'].pk}/delete/",
    }


def infrastructure(tenant):
    """Zones, hosts, offerings, an instance and an image: the pages of the cloud itself, in use."""
    from apps.compute.tests.factories import InstanceFactory, OfferingFactory
    from apps.identity.models import Rule
    from apps.images.tests.factories import active_image
    from apps.infrastructure.tests.factories import HostFactory, ZoneFactory

    zone = ZoneFactory(name="zone-west", description="Rack row A, own power feed")
    ZoneFactory(name="zone-east")
    host = HostFactory(name="kvm-01.west.example.org", zone=zone)
    HostFactory(name="kvm-02.west.example.org", zone=zone, maintenance=True)
    offering = OfferingFactory(name="m1.medium", vcpus=2, ram_mb=4096, root_disk_gb=40)
    restricted = OfferingFactory(name="m1.acme-large", vcpus=8, ram_mb=32768, root_disk_gb=160, public=False)
    restricted.domains.set([tenant.domain])
    instance = InstanceFactory(project=tenant.project, name="frontend", host=host, offering=offering)
    image = active_image(tenant.project, name="debian-12", disk_format="raw", content=b"\0" * 65536)
    rule = Rule.objects.get(role__name=policy.DOMAIN_ADMIN, action="@administer")
    return {"zone": zone, "offering": restricted, "instance": instance, "image": image, "rule": rule}


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
    estate = infrastructure(tenant)
    page = browsing.new_page(viewport)
    page.goto("/login/")
    screenshot(page, "login")
    sign_in(page, cloud_admin.username)
    for name, url in pages(tenant, job, estate).items():
        assert page.goto(url).status == 200, url
        sticking_out = overflowing(page)
        assert not sticking_out, f"{name}: wider than {viewport['width']}px: {sticking_out}"
        if page.locator("figure.quota-chart").count():
            page.wait_for_function(CHART_DRAWN)
        screenshot(page, name)
