"""A host's signed MetricsReport, through the agent endpoint into the raw sample tables."""

import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agent import protocol, signing
from apps.compute.tests.factories import InstanceFactory
from apps.core.actor import Actor
from apps.infrastructure.tests.agents import SignedAgent
from apps.monitoring import partitions
from apps.monitoring.ingest import STORE_SQL
from apps.monitoring.tables import HOST_RAW, INSTANCE_RAW
from apps.quotas import services as quotas
from apps.quotas.models import UNLIMITED

from .samples import instance_sample, report, rows


def test_a_report_stores_one_row_for_the_host_and_one_per_instance_with_every_series(agent, host, instance):
    sample = instance_sample(instance.pk, cpu_millicores=1500, net_rx_bytes_per_s=12345)

    response = agent.post(protocol.METRICS_REPORT_PATH, report(agent.name, [sample], cpu_millicores=700))

    assert response.status_code == 200, response.content
    assert response.json() == {"stored_instances": 1}
    assert rows(HOST_RAW, "host_id", "cpu_millicores") == [(host.pk, 700)]
    assert rows(INSTANCE_RAW, "instance_id", "cpu_millicores", "net_rx_bytes_per_s") == [
        (instance.pk, 1500, 12345)
    ]


def test_samples_of_instances_that_are_not_on_the_sending_host_are_dropped(agent, instance, project):
    elsewhere = InstanceFactory(project=project)
    unplaced = InstanceFactory(project=project, host=None)
    samples = [instance_sample(i) for i in (instance.pk, elsewhere.pk, unplaced.pk, uuid.uuid4())]

    response = agent.post(protocol.METRICS_REPORT_PATH, report(agent.name, samples))

    assert response.json() == {"stored_instances": 1}
    assert [row[0] for row in rows(INSTANCE_RAW)] == [instance.pk]


def test_one_row_per_subject_per_interval_however_many_reports_a_host_sends(agent, instance):
    now = int(time.time()) // 60 * 60
    for second in (1, 2, 30, 59):
        message = report(
            agent.name, [instance_sample(instance.pk, cpu_millicores=second)], sampled_at=now + second
        )
        assert agent.post(protocol.METRICS_REPORT_PATH, message).status_code == 200

    assert rows(INSTANCE_RAW, "cpu_millicores") == [(1,)]
    assert len(rows(HOST_RAW)) == 1


def test_a_report_from_outside_the_signed_window_is_refused(agent, instance):
    for offset in (-3600, protocol_skew() + 30, 86400 * 365):
        message = report(agent.name, [instance_sample(instance.pk)], sampled_at=time.time() + offset)
        response = agent.post(protocol.METRICS_REPORT_PATH, message)
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "sample_out_of_window"
    assert rows(INSTANCE_RAW) == rows(HOST_RAW) == []


def protocol_skew():
    return signing.REQUEST_MAX_SKEW_SECONDS


@pytest.mark.parametrize(
    "change",
    [
        {"cpu_millicores": -1},
        {"net_rx_bytes_per_s": protocol.MAX_BYTES_PER_S + 1},
        {"disk_read_ops_per_s": 2**40},
        {"memory_used_mb": "many"},
        {"cpu_millicores": 1.5},
    ],
)
def test_absurd_values_are_refused_and_nothing_is_stored(agent, instance, change):
    message = report(agent.name, [instance_sample(instance.pk)]).to_dict()
    message["instances"][0].update(change)

    response = agent.post(protocol.METRICS_REPORT_PATH, message)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "malformed"
    assert rows(INSTANCE_RAW) == rows(HOST_RAW) == []


def test_a_report_naming_an_instance_twice_or_too_many_is_refused(agent, instance):
    twice = report(agent.name, [instance_sample(instance.pk)] * 2)
    too_many = report(
        agent.name, [instance_sample(uuid.uuid4()) for _ in range(protocol.MAX_INSTANCE_SAMPLES + 1)]
    )

    for message in (twice, too_many):
        response = agent.post(protocol.METRICS_REPORT_PATH, message)
        assert response.status_code == 400, response.content
    assert rows(HOST_RAW) == []


def test_an_instance_cannot_be_said_to_use_more_cpu_or_memory_than_it_was_given(agent, instance):
    sample = instance_sample(instance.pk, cpu_millicores=protocol.MAX_MILLICORES, memory_used_mb=10**6)

    agent.post(protocol.METRICS_REPORT_PATH, report(agent.name, [sample]))

    assert rows(INSTANCE_RAW, "cpu_millicores", "memory_used_mb") == [(2000, 2048)]


def test_a_host_cannot_send_samples_as_another_host(agent, host, instance):
    other = SignedAgent.enrolled("compute-2")
    message = report(agent.name, [instance_sample(instance.pk)])

    response = other.post(protocol.METRICS_REPORT_PATH, message)
    unsigned = other.client.post(
        protocol.METRICS_REPORT_PATH,
        protocol.canonical_json(message.to_dict()),
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "other_host"
    assert unsigned.status_code == 401
    assert rows(INSTANCE_RAW) == rows(HOST_RAW) == []


def test_the_whole_report_is_stored_by_one_statement_whatever_the_number_of_instances(agent, host, project):
    for resource in ("instances", "vcpus", "ram_mb"):
        quotas.set_limit(Actor.system("test"), project, resource, UNLIMITED)
    instances = [InstanceFactory(host=host, project=project) for _ in range(50)]
    message = report(agent.name, [instance_sample(i.pk) for i in instances])
    agent.post(protocol.METRICS_REPORT_PATH, report(agent.name, [], sampled_at=time.time() - 120))

    with CaptureQueriesContext(connection) as queries:
        response = agent.post(protocol.METRICS_REPORT_PATH, message)

    assert response.json() == {"stored_instances": 50}
    sample_statements = [q["sql"] for q in queries if "monitoring_" in q["sql"]]
    assert len(sample_statements) == 1, sample_statements
    assert sample_statements[0].startswith(STORE_SQL[:60])


def test_missing_partitions_are_created_by_the_first_report_that_needs_them(agent, instance):
    assert partitions.existing(INSTANCE_RAW) == []

    agent.post(protocol.METRICS_REPORT_PATH, report(agent.name, [instance_sample(instance.pk)]))

    assert len(partitions.existing(INSTANCE_RAW)) == 1
    assert len(rows(INSTANCE_RAW)) == 1


def test_a_replayed_report_is_refused(agent, instance):
    message = report(agent.name, [instance_sample(instance.pk)])
    body = protocol.canonical_json(message.to_dict())
    headers = signing.sign_request(
        agent.key, host=agent.name, method="POST", path=protocol.METRICS_REPORT_PATH, body=body
    )

    first = agent.post(protocol.METRICS_REPORT_PATH, message, headers=headers)
    again = agent.post(protocol.METRICS_REPORT_PATH, message, headers=headers)

    assert first.status_code == 200
    assert (again.status_code, again.json()["error"]["code"]) == (401, "agent_replay")
