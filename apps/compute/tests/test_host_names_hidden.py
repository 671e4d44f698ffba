"""Tenants learn no host name, no host address and nothing of the cloud's size (docs/api.md's promise).

A tenant's instance runs on a host with a recognisable name and management
address; after launching and acting on it, every page and API answer its
project member and its domain admin can GET must carry neither. A cloud admin
sees the host where it belongs (the proof the sweep would see it if it leaked).
"""

import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.compute.models import Instance
from apps.compute.services.lifecycle import action_succeeded
from apps.conftest import login
from apps.core import policy
from apps.core.tests.routes import all_routes
from apps.identity.tests.factories import UserFactory, grant
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs.models import Job

HOST_NAME = "hv-rack7-secret"
HOST_ADDRESS = "10.77.31.9"
# Path arguments the sweep knows how to fill; routes taking others are left to their own tests.
SWEPT_KWARGS = {"project_id", "instance_id", "job_id", "event_id"}


@pytest.fixture
def instance(api, offering, image, zone):
    HostFactory(name=HOST_NAME, management_ip=HOST_ADDRESS, zone=zone)
    body = {"name": "web", "offering_id": str(offering.id), "image_id": str(image.id)}
    created = api.post("/api/v1/instances/", body, format="json")
    assert created.status_code == 202, created.content
    assert action_succeeded(created.data["id"], "spawn", power_state="running")
    assert api.post(f"/api/v1/instances/{created.data['id']}/stop/", {}, format="json").status_code == 202
    return Instance.objects.get(pk=created.data["id"])


@pytest.fixture
def domain_admin(project):
    user = UserFactory(domain=project.domain)
    grant(user, policy.DOMAIN_ADMIN, project.domain)
    return user


def session(user):
    client = Client()
    client.force_login(user)
    return client


def swept_urls(instance):
    """Every API list, the instance's own API answers, and every page these arguments can fill."""
    values = {"project_id": instance.project_id, "instance_id": instance.pk}
    job_ids = list(Job.objects.filter(object_id=str(instance.pk)).values_list("pk", flat=True))
    event_ids = list(AuditEvent.objects.filter(object_id=str(instance.pk)).values_list("pk", flat=True))
    urls = [f"/api/v1/instances/{instance.pk}/"]
    urls += [f"/api/v1/jobs/{pk}/" for pk in job_ids] + [f"/api/v1/audit-events/{pk}/" for pk in event_ids]
    for route in all_routes():
        if route.key.endswith("logout") or (route.methods is not None and "get" not in route.methods):
            continue
        wanted = route.identifier_kwargs
        if route.key.startswith("api:") and wanted:
            continue
        if not wanted <= SWEPT_KWARGS:
            continue
        for job_id in job_ids if "job_id" in wanted else [None]:
            for event_id in event_ids if "event_id" in wanted else [None]:
                filled = {
                    k: v for k, v in {**values, "job_id": job_id, "event_id": event_id}.items() if k in wanted
                }
                urls.append(route.url(filled))
    return urls


def leaks(client, urls):
    found = []
    for url in urls:
        text = client.get(url).content.decode(errors="replace")
        found += [f"{url} shows {secret}" for secret in (HOST_NAME, HOST_ADDRESS) if secret in text]
    return found


@pytest.mark.parametrize("who", ["project_member", "domain_admin"])
def test_no_page_or_api_answer_shows_a_tenant_its_hosts_name_or_address(who, instance, member, domain_admin):
    user = {"project_member": member, "domain_admin": domain_admin}[who]
    urls = swept_urls(instance)
    assert len(urls) > 30, urls

    assert leaks(session(user), urls) == []
    assert leaks(login(user), urls) == []


def test_a_cloud_admin_reads_the_host_in_the_audit_and_the_instance_list(instance, cloud_admin):
    admin = login(cloud_admin)
    events = admin.get(f"/api/v1/audit-events/?object_id={instance.pk}").data["results"]
    assert {e["action"]: e["details"].get("platform") for e in events} == {
        "compute.instance.create": {"host": HOST_NAME},
        "compute.instance.stop": {"host": HOST_NAME},
    }
    assert HOST_NAME in session(cloud_admin).get(reverse("compute:admin-instance-list")).content.decode()


def test_the_launch_message_names_no_host(member, project, offering, image, zone):
    HostFactory(name=HOST_NAME, zone=zone)
    web = session(member)
    launched = web.post(
        reverse("compute:instance-launch", args=[project.pk]),
        {"name": "web", "offering_id": str(offering.id), "image_id": str(image.id)},
        follow=True,
    )
    page = launched.content.decode()
    assert "Launching web: the progress shows below." in page
    assert HOST_NAME not in page


def test_a_domain_admin_filtering_the_instances_by_host_finds_none_whatever_the_name(instance, domain_admin):
    web = session(domain_admin)
    listing = reverse("compute:admin-instance-list")

    by_real_host = web.get(f"{listing}?host={HOST_NAME}").content.decode()
    by_made_up_host = web.get(f"{listing}?host=no-such-host").content.decode()

    assert "No instances." in by_real_host
    assert "No instances." in by_made_up_host
    assert "No instances." not in web.get(listing).content.decode()


def test_build_near_host_ip_is_a_hint_for_cloud_admins_only(api, admin_api, project, offering, image, zone):
    HostFactory(name=HOST_NAME, management_ip=HOST_ADDRESS, zone=zone)
    body = {
        "name": "near",
        "offering_id": str(offering.id),
        "image_id": str(image.id),
        "scheduler_hints": {"build_near_host_ip": "10.77.31.1", "cidr": "/24"},
    }

    refused = api.post("/api/v1/instances/", body, format="json")
    placed = admin_api.post("/api/v1/instances/", {**body, "project_id": str(project.pk)}, format="json")

    assert (refused.status_code, refused.data["error"]["code"]) == (403, "hint_not_allowed")
    assert placed.status_code == 202, placed.content
