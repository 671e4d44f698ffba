"""Launching through the API: 202 with the spawn job, claims taken, and refusals that leave nothing behind."""

import base64

import pytest

from apps.compute.models import Instance
from apps.compute.services.keypairs import create_keypair
from apps.conftest import login
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.images.tests.factories import active_image, queued_image
from apps.infrastructure.models import Allocation, Host
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs.models import Job
from apps.quotas import services as quotas

from .factories import OfferingFactory

SYSTEM = Actor.system("test")


def launch(api, offering, image, **fields):
    body = {"name": "web-1", "offering_id": str(offering.id), "image_id": str(image.id), **fields}
    return api.post("/api/v1/instances/", body, format="json")


def nothing_created(project):
    usage = quotas.usage_of(project)
    return (
        not Instance.objects.exists()
        and not Allocation.objects.exists()
        and not Job.objects.exists()
        and all(usage[r][1] == 0 for r in ("instances", "vcpus", "ram_mb"))
    )


def test_a_member_launches_an_instance_and_gets_the_spawn_job(api, project, offering, image, zone):
    host = HostFactory(name="kvm-01", zone=zone)
    response = launch(api, offering, image, user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode())
    assert response.status_code == 202, response.content
    body = response.data
    assert (body["vm_state"], body["task_state"]) == ("building", "spawning")
    assert body["zone_name"] == "zone-a"
    job = Job.objects.get(pk=body["job_id"])
    assert response["Location"] == f"/api/v1/jobs/{job.pk}/"
    assert (job.kind, job.queue, job.state) == ("compute.instance.spawn", "host.kvm-01", "pending")
    assert job.object_id == body["id"]
    instance = Instance.objects.get(pk=body["id"])
    assert bytes(instance.user_data) == b"#!/bin/sh\necho hi\n"
    assert instance.host == host
    host.refresh_from_db()
    assert (host.vcpus_used, host.ram_mb_used, host.disk_gb_used) == (1, 1024, 10)
    usage = quotas.usage_of(project)
    assert (usage["instances"][1], usage["vcpus"][1], usage["ram_mb"][1]) == (1, 1, 1024)
    assert api.get(f"/api/v1/jobs/{job.pk}/").data["state"] == "pending"


def test_when_no_host_fits_a_tenant_hears_only_that_there_is_no_capacity(api, project, offering, image):
    HostFactory(maintenance=True)
    HostFactory(ram_mb=1024, reserved_host_memory_mb=512)
    response = launch(api, offering, image)
    assert response.status_code == 409
    assert response.data["error"] == {
        "code": "no_valid_host",
        "message": "There is no capacity for this request.",
        "details": {},
    }
    assert nothing_created(project)


def test_when_no_host_fits_a_cloud_admin_hears_what_each_filter_removed(admin_api, project, offering, image):
    HostFactory(maintenance=True)
    HostFactory(ram_mb=1024, reserved_host_memory_mb=512)
    response = launch(admin_api, offering, image, project_id=str(project.pk))
    assert response.status_code == 409
    error = response.data["error"]
    assert (error["code"], error["message"]) == ("no_valid_host", "There is no capacity for this request.")
    assert error["details"]["hosts"] == 2
    assert {f["filter"]: f["removed"] for f in error["details"]["filters"] if f["removed"]} == {
        "compute": 1,
        "ram": 1,
    }
    assert nothing_created(project)


def test_an_exceeded_quota_is_a_409_and_nothing_is_created(api, project, offering, image):
    HostFactory()
    quotas.set_limit(SYSTEM, project, "vcpus", 0)
    response = launch(api, offering, image)
    assert (response.status_code, response.data["error"]["code"]) == (409, "quota_exceeded")
    assert nothing_created(project)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"user_data": "not base64!"}, "user_data"),
        ({"offering_id": "nope"}, "offering_id"),
        ({"name": ""}, "name"),
        ({"scheduler_hints": {"build_near_host_ip": "not-an-ip", "cidr": "/24"}}, "scheduler_hints"),
    ],
)
def test_malformed_fields_are_a_400_naming_the_field(api, project, offering, image, fields, field):
    HostFactory()
    response = launch(api, offering, image, **fields)
    assert (response.status_code, response.data["error"]["code"]) == (400, "validation_error")
    assert field in response.data["error"]["details"]
    assert nothing_created(project)


def test_each_refused_reference_has_its_own_code_and_nothing_is_created(api, project, offering, image, root):
    HostFactory()
    other_project = ProjectFactory()
    cases = [
        ({"offering_id": str(OfferingFactory(public=False).id)}, 400, "offering_not_found"),
        ({"offering_id": str(OfferingFactory(enabled=False).id)}, 400, "offering_not_found"),
        ({"image_id": str(active_image(other_project).id)}, 400, "image_not_found"),
        ({"image_id": str(queued_image(project).id)}, 409, "image_not_active"),
        (
            {"image_id": str(active_image(project, disk_format="aki", name="kernel").id)},
            400,
            "image_not_bootable",
        ),
        ({"image_id": str(active_image(project, min_ram_mb=4096).id)}, 400, "offering_too_small"),
        (
            {"keypair_id": str(create_keypair(SYSTEM, other_project, name="theirs")[0].id)},
            400,
            "keypair_not_found",
        ),
        ({"zone_id": "00000000-0000-4000-8000-00000000abcd"}, 400, "zone_not_found"),
        ({"affinity_group_id": "00000000-0000-4000-8000-00000000abcd"}, 400, "affinity_group_not_found"),
        (
            {"scheduler_hints": {"same_host": ["00000000-0000-4000-8000-00000000abcd"]}},
            400,
            "bad_scheduler_hint",
        ),
        ({"scheduler_hints": {"build_near_host_ip": "10.0.0.1"}}, 403, "hint_not_allowed"),
        ({"user_data": base64.b64encode(b"x" * 65536).decode()}, 400, "user_data_too_large"),
    ]
    for fields, status, code in cases:
        response = launch(api, offering, image, **fields)
        assert (response.status_code, response.data["error"]["code"]) == (status, code), fields
    assert nothing_created(project)


def test_an_offering_limited_to_a_domain_serves_its_subdomains_only(root, offering, zone):
    HostFactory(zone=zone)
    acme = DomainFactory(name="acme")
    inside = ProjectFactory(domain=DomainFactory(parent=acme, name="acme-eng"))
    outside = ProjectFactory()
    limited = OfferingFactory(name="acme-only", public=False)
    limited.domains.set([acme])
    for project, expected in ((inside, 202), (outside, 400)):
        user = UserFactory(domain=project.domain)
        grant(user, policy.PROJECT_MEMBER, project)
        api = login(user, project_id=project.pk)
        image = active_image(project)
        assert launch(api, limited, image).status_code == expected
        names = [o["name"] for o in api.get("/api/v1/offerings/").data["results"]]
        assert ("acme-only" in names) is (expected == 202)


def test_a_public_image_of_another_project_can_be_launched(api, offering, public_image):
    HostFactory()
    assert launch(api, offering, public_image).status_code == 202


def test_a_reader_cannot_launch(project, offering, image):
    HostFactory()
    reader = UserFactory(domain=project.domain)
    grant(reader, policy.PROJECT_READER, project)
    response = launch(login(reader, project_id=project.pk), offering, image)
    assert (response.status_code, response.data["error"]["code"]) == (403, "permission_denied")
    assert nothing_created(project)


def test_a_tenant_sees_an_opaque_host_id_and_an_admin_the_host(api, offering, image, admin_api):
    host = HostFactory(name="kvm-secret")
    instance_id = launch(api, offering, image).data["id"]
    mine = api.get(f"/api/v1/instances/{instance_id}/").data
    assert mine["host_name"] is None
    assert mine["host_id"] != str(host.id)
    assert "kvm-secret" not in str(mine)
    theirs = admin_api.get(f"/api/v1/instances/{instance_id}/").data
    assert (theirs["host_name"], theirs["host_id"]) == ("kvm-secret", str(host.id))


def test_without_a_project_scoped_token_the_project_is_named(member, project, offering, image):
    HostFactory()
    api = login(member)
    response = launch(api, offering, image)
    assert (response.status_code, response.data["error"]["code"]) == (400, "project_required")
    response = launch(api, offering, image, project_id=str(project.id))
    assert response.status_code == 202


def test_an_isolated_image_lands_on_an_isolated_host(api, project, offering):
    HostFactory(name="shared", ram_mb=64000)
    HostFactory(name="isolated", isolated=True)
    image = active_image(project, isolated=True)
    response = launch(api, offering, image)
    assert Host.objects.get(pk=Instance.objects.get(pk=response.data["id"]).host_id).name == "isolated"


def test_anti_affinity_members_get_different_hosts_until_none_is_left(api, project, offering, image):
    for n in range(2):
        HostFactory(name=f"node-{n}")
    group = api.post("/api/v1/affinity-groups/", {"name": "spread", "policy": "anti-affinity"}, format="json")
    assert group.status_code == 201
    responses = [launch(api, offering, image, affinity_group_id=group.data["id"]) for _ in range(3)]
    assert [r.status_code for r in responses] == [202, 202, 409]
    assert responses[2].data["error"]["code"] == "no_valid_host"
    hosts = set(Instance.objects.filter(affinity_group_id=group.data["id"]).values_list("host_id", flat=True))
    assert len(hosts) == 2


def test_a_different_host_hint_keeps_away_from_an_instance_of_the_project(api, offering, image):
    HostFactory(name="a", ram_mb=64000)
    HostFactory(name="b", ram_mb=32000)
    first = launch(api, offering, image).data["id"]
    hint = {"different_host": [first]}
    second = launch(api, offering, image, scheduler_hints=hint).data["id"]
    placed = {str(pk): host for pk, host in Instance.objects.values_list("id", "host__name")}
    assert placed[first] != placed[second]
    assert Instance.objects.get(pk=second).scheduler_hints == hint
