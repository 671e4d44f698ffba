"""What the compute pages say: bootable images only, refusals in plain words, jobs called by what they do,
a graceful stop's deadline, offerings a domain admin may only read."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.compute import states
from apps.compute.models import AffinityGroup, ServiceOffering
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.tests.factories import DomainFactory, UserFactory, grant
from apps.images.tests.factories import active_image
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs import services as jobs
from apps.portal.tests.conftest import signed_in

from .factories import InstanceFactory, OfferingFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


@pytest.fixture
def web(member):
    return signed_in(member)


def launch_url(project):
    return reverse("compute:instance-launch", args=[project.pk])


def test_launch_and_rebuild_offer_only_images_an_instance_boots_from(web, project, image):
    active_image(project, name="vmlinuz", disk_format="aki")
    active_image(project, name="initrd", disk_format="ari")
    instance = InstanceFactory(project=project)
    for page in (
        web.get(launch_url(project)).content.decode(),
        web.get(reverse("compute:instance-detail", args=[project.pk, instance.pk])).content.decode(),
    ):
        assert ">debian<" in page
        assert "vmlinuz" not in page
        assert "initrd" not in page


def test_a_kernel_is_refused_in_plain_words(api, project, offering):
    HostFactory()
    kernel = active_image(project, name="vmlinuz", disk_format="aki")
    response = api.post(
        "/api/v1/instances/",
        {"name": "web", "image_id": str(kernel.pk), "offering_id": str(offering.pk)},
        format="json",
    )
    assert response.data["error"]["code"] == "image_not_bootable"
    assert response.data["error"]["message"] == (
        "Image vmlinuz is a kernel (aki), which cannot boot an instance:"
        " choose a disk image (qcow2, raw, vmdk, ami)."
    )


def no_host_refusal(client, project, offering, image, **fields):
    response = client.post(
        launch_url(project), {"name": "web", "image_id": image.pk, "offering_id": offering.pk, **fields}
    )
    assert response.status_code == 409
    page = response.content.decode()
    return re.search(r'class="form-errors"[^>]*>(.*?)</div>', page, re.S).group(1)


def test_a_tenant_whose_launch_no_host_can_take_hears_what_to_do_not_how_many_hosts(
    web, project, offering, image
):
    HostFactory(maintenance=True)
    group = AffinityGroup.objects.create(project=project, name="spread", policy=AffinityGroup.ANTI_AFFINITY)
    said = no_host_refusal(web, project, offering, image, affinity_group_id=group.pk)
    assert "No host can take this instance now." in said
    assert "Each instance of the anti-affinity group spread needs a host of its own" in said
    assert "A smaller size may fit" in said
    assert "hosts:" not in said
    assert "removed" not in said


def test_a_cloud_admin_hears_in_words_what_ruled_each_host_out(cloud_admin, project, offering, image):
    grant(cloud_admin, policy.PROJECT_MEMBER, project)
    HostFactory(maintenance=True)
    HostFactory(ram_mb=1024, reserved_host_memory_mb=512)
    said = no_host_refusal(signed_in(cloud_admin), project, offering, image)
    assert (
        "Of the 2 hosts: 1 are down, disabled, in maintenance or in a disabled zone; 1 lack free memory."
        in said
    )
    assert "removed" not in said


def test_a_finished_job_shows_no_stale_step_and_every_job_is_named_in_words(web, project):
    instance = InstanceFactory(project=project, name="web")
    host = instance.host
    job = jobs.create_job("compute.instance.spawn", target=project.target(), obj=instance, queue=host.queue)
    jobs.take_next("agent", queue=host.queue)
    jobs.report_progress(job.pk, 40, "fetching the image")
    running = web.get(f"/jobs/{job.pk}/progress/").content.decode()
    assert '<span class="job-kind">Launch</span>' in running
    assert "fetching the image" in running

    jobs.succeed(job.pk, {})
    response = web.get(f"/jobs/{job.pk}/progress/")
    finished = response.content.decode()
    assert "fetching the image" not in finished
    assert "hx-get" not in finished
    assert '"job-finished"' in response["HX-Trigger"]


def test_a_graceful_reboot_says_the_guest_is_asked_and_when_it_will_be_forced(web, project, settings):
    settings.CLOUDMGR_INSTANCE_STOP_TIMEOUT_SECONDS = 60
    instance = InstanceFactory(project=project, name="web")
    web.post(reverse("compute:instance-action", args=[project.pk, instance.pk]), {"op": "reboot"})
    job = jobs.take_next("agent", queue=instance.host.queue)
    forced = timezone.localtime(job.started_at + timezone.timedelta(seconds=60)).strftime("%H:%M:%S")

    page = web.get(reverse("compute:instance-detail", args=[project.pk, instance.pk])).content.decode()

    assert '<span class="job-kind">Reboot</span>' in page
    assert f"The guest is asked to restart; if it has not shut down by {forced} UTC" in page
    assert "it is powered off and started again" in page
    assert InstanceFactory._meta.model.objects.get(pk=instance.pk).task_state == states.REBOOTING


def test_a_domain_admin_reads_the_offerings_of_its_domains_and_may_change_none(root):
    acme, globex = DomainFactory(name="acme"), DomainFactory(name="globex")
    public = OfferingFactory(name="m1.small")
    mine = OfferingFactory(name="m1.acme", public=False)
    mine.domains.set([acme])
    theirs = OfferingFactory(name="m1.globex", public=False)
    theirs.domains.set([globex])
    admin = UserFactory(domain=acme)
    grant(admin, policy.DOMAIN_ADMIN, acme)
    client = signed_in(admin)

    listed = client.get("/admin-portal/offerings/").content.decode()
    assert sorted(re.findall(r'data-offering="([^"]+)"', listed)) == ["m1.acme", "m1.small"]
    assert "globex" not in listed
    assert client.get(f"/admin-portal/offerings/{theirs.pk}/").status_code == 404
    refused = client.post(
        f"/admin-portal/offerings/{public.pk}/edit/", {"name": "taken-over", "public": "on", "enabled": "on"}
    )
    assert refused.status_code == 403
    assert client.post(f"/admin-portal/offerings/{public.pk}/switch/", {"op": "disable"}).status_code == 403
    assert client.post("/admin-portal/offerings/new/", {"name": "x", "vcpus": 1}).status_code == 403
    public.refresh_from_db()
    assert (public.name, public.enabled) == ("m1.small", True)
    assert ServiceOffering.objects.count() == 3


def test_an_offering_in_use_is_refused_deletion_and_the_page_says_to_disable_it(cloud_admin, project):
    offering = OfferingFactory(name="m1.small")
    InstanceFactory(project=project, offering=offering)
    response = signed_in(cloud_admin).post(f"/admin-portal/offerings/{offering.pk}/delete/", follow=True)
    assert "is used by instances; disable it instead" in response.content.decode()
    assert ServiceOffering.objects.filter(pk=offering.pk).exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(project):
    response = Client().get("/admin-portal/offerings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
