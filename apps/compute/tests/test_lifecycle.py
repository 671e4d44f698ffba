"""Instance actions through the API, and what the host's answer (or its silence) does to the instance."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.compute.models import Instance
from apps.compute.services.lifecycle import action_failed, action_succeeded
from apps.conftest import login
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.tests.factories import UserFactory, grant
from apps.images.tests.factories import active_image
from apps.infrastructure.models import Allocation, Host
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs.models import Job
from apps.jobs.services import sweep_overdue
from apps.quotas import services as quotas


@pytest.fixture
def launched(api, offering, image, zone):
    """An instance the host has spawned: active, holding capacity and quota."""
    HostFactory(name="kvm-01", zone=zone)
    body = {"name": "web", "offering_id": str(offering.id), "image_id": str(image.id)}
    response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    assert action_succeeded(response.data["id"], "spawn", power_state="running")
    return Instance.objects.get(pk=response.data["id"])


def post(api, instance, action, body=None):
    return api.post(f"/api/v1/instances/{instance.pk}/{action}/", body or {}, format="json")


def held(instance):
    return (
        Allocation.objects.filter(consumer_id=instance.pk).exists(),
        quotas.claimed_by(instance),
    )


def test_a_spawned_instance_is_active_and_launched(launched):
    assert (launched.vm_state, launched.task_state, launched.power_state) == ("active", None, "running")
    assert launched.launched_at is not None


@pytest.mark.parametrize(
    ("action", "body", "task_state", "payload"),
    [
        ("stop", {}, "powering-off", {"graceful_timeout_seconds": 60}),
        ("stop", {"force": True}, "powering-off", {"graceful_timeout_seconds": 0}),
        ("reboot", {}, "rebooting", {"graceful_timeout_seconds": 60}),
        ("reboot", {"type": "hard"}, "rebooting-hard", {"graceful_timeout_seconds": 60}),
        ("pause", {}, "pausing", {}),
        ("suspend", {}, "suspending", {}),
    ],
)
def test_an_action_moves_the_task_state_and_queues_a_job_for_the_host(
    api, launched, action, body, task_state, payload
):
    response = post(api, launched, action, body)
    assert response.status_code == 202, response.content
    assert response.data["task_state"] == task_state
    job = Job.objects.get(pk=response.data["job_id"])
    assert job.queue == "host.kvm-01"
    assert job.payload == {"instance_id": str(launched.pk), "action": job.kind.rsplit(".", 1)[1], **payload}


def test_an_action_the_state_does_not_allow_is_a_409_and_queues_nothing(api, launched):
    jobs = Job.objects.count()
    response = post(api, launched, "start")
    assert (response.status_code, response.data["error"]["code"]) == (409, "instance_invalid_state")
    assert response.data["error"]["details"] == {"action": "start", "vm_state": "active", "task_state": None}
    assert Job.objects.count() == jobs


def test_stop_then_start_round_trip(api, launched):
    post(api, launched, "stop")
    assert action_succeeded(launched.pk, "stop", power_state="shutoff")
    assert Instance.objects.get(pk=launched.pk).vm_state == "stopped"
    assert post(api, launched, "start").status_code == 202
    assert action_succeeded(launched.pk, "start", power_state="running")
    assert Instance.objects.get(pk=launched.pk).vm_state == "active"


def test_a_failed_pause_leaves_the_instance_active_with_the_reason(api, launched):
    post(api, launched, "pause")
    assert action_failed(launched.pk, "pause", "hypervisor_error", "libvirt said no")
    instance = Instance.objects.get(pk=launched.pk)
    assert (instance.vm_state, instance.task_state) == ("active", None)
    assert api.get(f"/api/v1/instances/{launched.pk}/").data["fault"] == {
        "code": "hypervisor_error",
        "message": "libvirt said no",
    }


def test_deleting_gives_back_capacity_and_quota_once_the_host_has_deleted_it(api, launched, project):
    response = api.delete(f"/api/v1/instances/{launched.pk}/")
    assert (response.status_code, response.data["task_state"]) == (202, "deleting")
    assert held(launched) == (True, {"instances": 1, "vcpus": 1, "ram_mb": 1024})
    assert action_succeeded(launched.pk, "delete")
    assert not action_succeeded(launched.pk, "delete")
    instance = Instance.objects.get(pk=launched.pk)
    assert (instance.vm_state, instance.host_id) == ("deleted", None)
    assert held(launched) == (False, {})
    assert Host.objects.get(name="kvm-01").ram_mb_used == 0
    assert quotas.usage_of(project)["instances"][1] == 0


def test_a_spawn_that_fails_on_a_healthy_host_keeps_its_claims_until_the_instance_is_deleted(
    api, offering, image
):
    HostFactory()
    body = {"name": "doomed", "offering_id": str(offering.id), "image_id": str(image.id)}
    instance_id = api.post("/api/v1/instances/", body, format="json").data["id"]
    assert action_failed(instance_id, "spawn", "image_fetch_failed", "the image could not be fetched")
    instance = Instance.objects.get(pk=instance_id)
    assert (instance.vm_state, instance.fault_code) == ("error", "image_fetch_failed")
    assert held(instance) == (True, {"instances": 1, "vcpus": 1, "ram_mb": 1024})

    assert api.delete(f"/api/v1/instances/{instance_id}/").status_code == 202
    assert held(instance) == (True, {"instances": 1, "vcpus": 1, "ram_mb": 1024})
    assert action_succeeded(instance_id, "delete")
    assert held(instance) == (False, {})


def test_a_spawn_job_past_its_deadline_fails_and_the_instance_goes_to_error_still_counted(
    api, offering, image
):
    HostFactory()
    body = {"name": "silent", "offering_id": str(offering.id), "image_id": str(image.id)}
    response = api.post("/api/v1/instances/", body, format="json")
    assert sweep_overdue(now=timezone.now() + timedelta(days=1)) == 1
    instance = Instance.objects.get(pk=response.data["id"])
    assert (instance.vm_state, instance.task_state, instance.fault_code) == (
        "error",
        None,
        "deadline_exceeded",
    )
    assert held(instance) == (True, {"instances": 1, "vcpus": 1, "ram_mb": 1024})
    assert Job.objects.get(pk=response.data["job_id"]).state == "failed"


@pytest.mark.parametrize(
    ("action", "body", "task"), [("rebuild", None, "rebuild"), ("reboot", {"type": "hard"}, "reboot_hard")]
)
def test_an_instance_whose_spawn_failed_is_made_runnable_only_with_the_claims_it_still_holds(
    api, offering, image, project, action, body, task
):
    HostFactory()
    quotas.set_limit(Actor.system(), project, "instances", 1)
    launch = {"name": "doomed", "offering_id": str(offering.id), "image_id": str(image.id)}
    instance_id = api.post("/api/v1/instances/", launch, format="json").data["id"]
    assert action_failed(instance_id, "spawn", "hypervisor_error", "the guest did not start")

    # The instance in error still counts: no second one fits in the quota.
    refused = api.post("/api/v1/instances/", {**launch, "name": "second"}, format="json")
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "quota_exceeded")

    instance = Instance.objects.get(pk=instance_id)
    response = post(api, instance, action, body or {"image_id": str(image.id)})
    assert response.status_code == 202, response.content
    assert action_succeeded(instance_id, task, power_state="running")
    assert Instance.objects.get(pk=instance_id).vm_state == "active"
    assert held(instance) == (True, {"instances": 1, "vcpus": 1, "ram_mb": 1024})
    assert quotas.usage_of(project)["instances"] == (1, 1)
    assert Host.objects.get().ram_mb_used == 1024


def test_claims_stay_when_the_host_is_down_because_its_guest_may_still_run(api, offering, image):
    host = HostFactory()
    body = {"name": "on-a-dead-host", "offering_id": str(offering.id), "image_id": str(image.id)}
    instance_id = api.post("/api/v1/instances/", body, format="json").data["id"]
    Host.objects.filter(pk=host.pk).update(state=Host.DOWN)
    assert sweep_overdue(now=timezone.now() + timedelta(days=1)) == 1
    instance = Instance.objects.get(pk=instance_id)
    assert instance.vm_state == "error"
    assert held(instance) == (True, {"instances": 1, "vcpus": 1, "ram_mb": 1024})


def test_a_rebuild_takes_a_new_image_checked_against_the_offering(api, launched, project):
    too_big = active_image(project, name="big", min_disk_gb=50)
    response = post(api, launched, "rebuild", {"image_id": str(too_big.id)})
    assert (response.status_code, response.data["error"]["code"]) == (400, "offering_too_small")
    fresh = active_image(project, name="fresh")
    response = post(api, launched, "rebuild", {"image_id": str(fresh.id)})
    assert (response.status_code, response.data["task_state"]) == (202, "rebuilding")
    assert response.data["image_id"] == str(fresh.id)


def test_a_reader_sees_the_instance_but_cannot_act_on_it(launched, project):
    reader = UserFactory(domain=project.domain)
    grant(reader, policy.PROJECT_READER, project)
    api = login(reader, project_id=project.pk)
    assert api.get(f"/api/v1/instances/{launched.pk}/").status_code == 200
    response = post(api, launched, "stop")
    assert (response.status_code, response.data["error"]["code"]) == (403, "permission_denied")
    assert Instance.objects.get(pk=launched.pk).task_state is None
