"""`GET /metrics`: Prometheus's text, written by prometheus_client, for cloud admins and scrape tokens."""

import pytest
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from agent import protocol
from apps.core import policy
from apps.core.actor import Actor
from apps.core.errors import PermissionDenied
from apps.core.policy import Principal
from apps.identity.tests.factories import UserFactory, grant
from apps.jobs import services as jobs
from apps.monitoring.models import ScrapeToken
from apps.monitoring.scrape_tokens import create_scrape_token, delete_scrape_token

from .samples import instance_sample, report


def families(response):
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def value(family, **labels):
    (sample,) = [s for s in family.samples if all(s.labels.get(k) == v for k, v in labels.items())]
    return sample.value


def test_a_cloud_admin_reads_jobs_hosts_allocation_and_the_latest_samples(
    admin_api, agent, host, instance, root
):
    agent.heartbeat()
    agent.post(
        protocol.METRICS_REPORT_PATH, report(agent.name, [instance_sample(instance.pk, cpu_millicores=750)])
    )
    jobs.create_job("test.metrics", target=root.target(), obj=root)
    admin_api.get("/api/v1/projects/")

    response = admin_api.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    found = families(response)
    assert value(found["cloudmgr_jobs"], state="pending") == 1
    assert value(found["cloudmgr_job_queue_depth"], queue="controller") == 1
    assert value(found["cloudmgr_hosts"], state="up") == 1
    assert value(found["cloudmgr_host_up"], host=host.name) == 1
    assert value(found["cloudmgr_host_vcpus_used"], host=host.name) == host.vcpus_used
    assert value(found["cloudmgr_instance_sample_cpu_millicores"], instance_id=str(instance.pk)) == 750
    assert value(found["cloudmgr_host_sample_memory_total_mb"], host=host.name) == 8192
    answered = found["cloudmgr_http_responses"]
    assert any(
        s.labels == {"method": "GET", "route": "/api/v1/projects/", "status": "200"} for s in answered.samples
    )
    assert "cloudmgr_http_request_duration_seconds" in found


def test_a_scrape_token_reads_the_metrics_and_nothing_else(root, capsys, project):
    call_command("createscrapetoken", "prometheus")
    token = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/projects/").status_code in (401, 403)
    assert client.get(f"/api/v1/projects/{project.pk}/").status_code in (401, 403, 404)
    assert ScrapeToken.objects.get().token_hash not in token


def test_tenants_strangers_and_wrong_tokens_are_refused(api):
    assert api.get("/metrics").status_code == 403
    assert APIClient().get("/metrics").status_code == 401
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer cms_not-a-token")
    response = stranger.get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_scrape_token"


def test_a_deleted_scrape_token_is_refused(root, capsys):
    call_command("createscrapetoken", "old")
    token = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    call_command("createscrapetoken", "old", "--delete")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get("/metrics").status_code == 401


def test_only_the_platforms_admins_create_or_delete_scrape_tokens(project, root):
    domain_admin = UserFactory(domain=project.domain)
    grant(domain_admin, policy.DOMAIN_ADMIN, project.domain)
    actor = Actor(Principal(domain_admin), "", "cli")

    for operation in (create_scrape_token, delete_scrape_token):
        with pytest.raises(PermissionDenied):
            operation(actor, "mine")
    assert not ScrapeToken.objects.exists()
