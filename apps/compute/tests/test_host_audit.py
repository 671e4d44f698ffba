"""The host audit against a real agent process on libvirt test:///default, and cache prefetch through it.

Drift is made the way it happens in a cloud: the database or the host changes
without the other knowing. On the host side that is a signed task sent straight
to the agent's queue under a task id that is no job (the agent carries it out;
the controller refuses its report, so the database never hears of it). The
unmanaged domain is the one test:///default starts with ("test"), which has no
cloudmgr metadata.
"""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from agent import protocol
from agent.tests.builders import qcow2_bytes
from apps.compute.host_audit import audit_hosts
from apps.compute.models import Instance
from apps.compute.services.lifecycle import release_resources
from apps.core.tests.controllers import wait_until
from apps.images.tests.factories import active_image
from apps.infrastructure.models import Host, HostAuditFinding
from apps.infrastructure.wire import send_task
from apps.jobs.models import Job

from . import test_end_to_end as end_to_end
from .factories import OfferingFactory
from .test_end_to_end import WAIT_SECONDS, settled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

TEST_DRIVER_DOMAIN = "test"

# The end-to-end tests' fixtures: enrolled agent processes and a qcow2 image they can boot.
start_agents = end_to_end.start_agents
qcow2_image = end_to_end.qcow2_image


def behind_cloudmgrs_back(host, task, payload):
    """Send the agent a signed task no job knows about: the host changes, the database does not."""
    send_task(
        host,
        task,
        task_id=uuid.uuid4(),
        payload=payload,
        expires_at=timezone.now() + timedelta(seconds=WAIT_SECONDS),
    )


def launch(api, offering, image, name):
    body = {"name": name, "offering_id": str(offering.id), "image_id": str(image.id)}
    response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    return response.data["id"]


def open_findings(host):
    audit_hosts(Host.objects.filter(pk=host.pk))
    return {
        (f.kind, f.subject): f for f in HostAuditFinding.objects.filter(host=host, resolved_at__isnull=True)
    }


def host_reported_since(host, moment):
    return Host.objects.get(pk=host.pk).inventory_reported_at > moment


def test_the_audit_reports_drift_on_a_real_host_syncs_a_guest_shutdown_and_leaves_unmanaged_domains_alone(
    start_agents, api, admin_api, project, qcow2_image
):
    (agent,) = start_agents(1, capacity_ram_mb=8192)
    host = Host.objects.get(name=agent.name)
    offering = OfferingFactory(name="m1.tiny", vcpus=1, ram_mb=256, root_disk_gb=1)
    ids = [launch(api, offering, qcow2_image, name) for name in ("vanished", "forgotten", "halts", "crashed")]
    for instance_id in ids:
        wait_until(lambda i=instance_id: settled(i) is not None, WAIT_SECONDS, "the spawns")
    assert {settled(i).vm_state for i in ids} == {"active"}
    vanished, forgotten, halts, crashed = ids

    behind_cloudmgrs_back(host, protocol.DELETE_INSTANCE, protocol.InstanceTask(instance_id=vanished))
    # The guest powers itself off: libvirt's test driver records a shutdown request as reason "shutdown".
    behind_cloudmgrs_back(
        host, protocol.STOP_INSTANCE, protocol.StopInstance(instance_id=halts, graceful_timeout_seconds=30)
    )
    # Pulled off without asking the guest: reason "destroyed", as after a crash or a power cut.
    behind_cloudmgrs_back(
        host, protocol.STOP_INSTANCE, protocol.StopInstance(instance_id=crashed, graceful_timeout_seconds=0)
    )
    # The database forgets an instance as if its delete had finished without reaching the host.
    Instance.objects.filter(pk=forgotten).update(
        vm_state="deleted", task_state=None, host=None, deleted_at=timezone.now()
    )
    release_resources(forgotten)

    expected = {
        ("missing_domain", vanished),
        ("extra_domain", forgotten),
        ("power_state", crashed),
        ("unmanaged_domain", None),
    }

    def kinds():
        return {
            (kind, None if kind == "unmanaged_domain" else subject) for kind, subject in open_findings(host)
        }

    wait_until(lambda: kinds() == expected, WAIT_SECONDS, f"the audit to find {expected}")

    findings = open_findings(host)
    assert Instance.objects.get(pk=halts).vm_state == "stopped"
    assert Instance.objects.get(pk=crashed).vm_state == "active", "an off guest keeps its desired state"
    assert findings[("power_state", crashed)].details == {
        "vm_state": "active",
        "expected": "running",
        "reported": "shutoff",
        "reason": "destroyed",
    }
    (unmanaged,) = [f for (kind, _), f in findings.items() if kind == "unmanaged_domain"]
    assert unmanaged.domain_name == TEST_DRIVER_DOMAIN
    assert unmanaged.instance_id is None

    # Audits later the unmanaged domain is still there and still running: nothing touched it.
    first_seen = unmanaged.first_seen
    since = timezone.now()
    wait_until(
        lambda: Host.objects.get(pk=host.pk).inventory_reported_at > since, WAIT_SECONDS, "a heartbeat"
    )
    host.refresh_from_db()
    assert host.reported_inventory["unmanaged_domains"] == [
        {"name": TEST_DRIVER_DOMAIN, "uuid": unmanaged.subject, "power_state": "running"}
    ]
    assert open_findings(host)[("unmanaged_domain", unmanaged.subject)].first_seen == first_seen

    listed = admin_api.get("/api/v1/host-audit/", {"host": str(host.pk)})
    assert listed.status_code == 200, listed.content
    assert {(r["kind"], r["instance_id"]) for r in listed.data["results"]} == {
        ("missing_domain", vanished),
        ("extra_domain", forgotten),
        ("power_state", crashed),
        ("unmanaged_domain", None),
    }
    detail = admin_api.get(f"/api/v1/hosts/{host.pk}/")
    assert detail.data["unmanaged_domains"][0]["name"] == TEST_DRIVER_DOMAIN
    assert detail.data["cached_images"][0]["image_id"] == str(qcow2_image.pk)
    assert detail.data["stuck_operations"] == 0
    tenant_view = api.get("/api/v1/host-audit/")
    assert (tenant_view.status_code, tenant_view.data["results"]) == (200, [])


def test_the_audit_command_prints_the_findings_of_a_host(start_agents, capsys):
    (agent,) = start_agents(1)
    call_command("hostaudit", "--host", agent.name)
    out = capsys.readouterr().out
    assert "unmanaged_domain" in out
    assert f"{agent.name} " in out
    assert "1 open finding(s) on 1 host(s)." in out


def test_prefetch_fetches_an_image_into_each_hosts_cache_and_the_job_records_the_cache_state(
    start_agents, project, tmp_path, capsys, admin_api
):
    agents = start_agents(2)
    image = active_image(project, name="warm-me", disk_format="qcow2", content=qcow2_bytes(tmp_path))
    call_command("prefetchimage", image.name, "--hosts", ",".join(a.name for a in agents))
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == sorted(a.name for a in agents)
    jobs = Job.objects.filter(kind="compute.prefetch_image", object_id=str(image.pk))
    wait_until(lambda: not jobs.exclude(state="succeeded").exists(), WAIT_SECONDS, "the prefetches")
    for job in jobs:
        assert job.result == {
            "image_id": str(image.pk),
            "sha256": image.sha256,
            "size_bytes": image.size_bytes,
            "already_cached": False,
        }

    def cached_everywhere():
        hosts = Host.objects.filter(name__in=[a.name for a in agents])
        return all(str(image.pk) in {c["image_id"] for c in h.cached_images} for h in hosts)

    wait_until(cached_everywhere, WAIT_SECONDS, "the heartbeats to list the cached image")

    # Asked again through the API, the first host answers from its cache.
    first = Host.objects.get(name=agents[0].name)
    again = admin_api.post(
        "/api/v1/image-prefetches/", {"image_id": str(image.pk), "host_ids": [str(first.pk)]}, format="json"
    )
    assert again.status_code == 202, again.content
    (answer,) = again.data
    assert answer["host_id"] == str(first.pk)
    job = Job.objects.filter(pk=answer["job_id"])
    wait_until(lambda: job.filter(state="succeeded").exists(), WAIT_SECONDS, "the second prefetch")
    assert job.get().result["already_cached"] is True
