"""Hypothesis against the agent endpoint: no body a host signs gets a 5xx.

The bodies are signed with an enrolled host's key, so they pass the signature
check and reach the parser, the protocol's validation and the handlers. Task
reports name real jobs of the host (a stop, a pause, a console log…) part of
the time. The test prints how many bodies reached validation (were not refused
as unsigned) and how many were accepted.
"""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from agent import protocol
from apps.compute.services import lifecycle
from apps.compute.tests.factories import InstanceFactory
from apps.core.actor import Actor
from apps.infrastructure.models import Host

from .agents import SignedAgent, heartbeat_message
from .message_strategies import bodies

SYSTEM = Actor.system("test")
EXAMPLES = 400
ENDPOINTS = {protocol.HEARTBEAT_PATH: protocol.Heartbeat, protocol.TASK_REPORT_PATH: protocol.TaskReport}


@pytest.fixture
def agent(root, settings):
    settings.CLOUDMGR_TASK_SIGNING_KEY = ""
    agent = SignedAgent.enrolled("fuzzed-host")
    assert agent.heartbeat().status_code == 200
    return agent


def jobs_of(host):
    """One job of each kind a host reports on, for instances on the host."""
    jobs = []
    for action in ("stop", "pause", "suspend", "reboot"):
        jobs.append(lifecycle.act(SYSTEM, InstanceFactory(host=host), action))
    jobs.append(lifecycle.request_console_log(SYSTEM, InstanceFactory(host=host), 1024))
    return jobs


def valid_reports(host_name, jobs):
    """For each job: running, progress, failed and (for a stop and a console log) succeeded reports."""

    def report(job, task, state, **fields):
        return protocol.TaskReport(
            protocol_version=1,
            host=host_name,
            task_id=str(job.pk),
            task=task,
            state=state,
            sent_at=0,
            **fields,
        ).to_dict()

    reports = []
    for job in jobs:
        task = TASKS[job.payload["action"]]
        reports += [
            report(job, task, "running"),
            report(job, task, "progress", progress=50, message="half way"),
            report(job, task, "failed", error=protocol.TaskError("hypervisor_error", "it broke")),
        ]
        instance_id = job.payload["instance_id"]
        if task == protocol.STOP_INSTANCE:
            status = protocol.DomainStatus(instance_id, f"cloudmgr-{instance_id}", "shutoff", "shutdown")
            reports.append(report(job, task, "succeeded", result=protocol.InstanceResult(status).to_dict()))
        if task == protocol.CONSOLE_LOG:
            text = protocol.ConsoleLogResult(text="login:", size_bytes=6, truncated=False)
            reports.append(report(job, task, "succeeded", result=text.to_dict()))
    return reports


TASKS = {
    "stop": protocol.STOP_INSTANCE,
    "pause": protocol.PAUSE_INSTANCE,
    "suspend": protocol.SUSPEND_INSTANCE,
    "reboot": protocol.REBOOT_INSTANCE,
    lifecycle.CONSOLE_LOG: protocol.CONSOLE_LOG,
}


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_no_body_signed_by_an_enrolled_host_gets_a_server_error(agent, path, capsys):
    host = Host.objects.get(name=agent.name)
    jobs = jobs_of(host)
    known = [agent.name, *(str(job.pk) for job in jobs), *(job.payload["instance_id"] for job in jobs)]
    valid = {
        protocol.HEARTBEAT_PATH: [heartbeat_message(agent.name).to_dict()],
        protocol.TASK_REPORT_PATH: valid_reports(agent.name, jobs),
    }[path]
    statuses = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=bodies(ENDPOINTS[path], valid, known))
    def post(body):
        response = agent.post(path, body)
        statuses[response.status_code] += 1
        assert response.status_code < 500, (body, response.content)

    post()

    reached = sum(count for status, count in statuses.items() if status != 401)
    accepted = sum(count for status, count in statuses.items() if 200 <= status < 300)
    with capsys.disabled():
        print(f"\n{path}: {sum(statuses.values())} signed bodies, {reached} reached validation,", end=" ")
        print(f"{accepted} accepted")
    assert reached > EXAMPLES // 2
    assert accepted > 0
