"""A task report's nonce is remembered by the statement that reads its job; a replay is still refused."""

import pytest

from agent import protocol, signing

from .agents import SignedAgent


@pytest.fixture
def agent(root, settings):
    settings.CLOUDMGR_API_KEY_NONCE_STORE = ""
    agent = SignedAgent.enrolled("nonce-host")
    agent.heartbeat()
    return agent


def report_about(agent, task_id):
    message = protocol.TaskReport(
        protocol_version=1,
        host=agent.name,
        task_id=task_id,
        task=protocol.INVENTORY,
        state="running",
        sent_at=0,
    )
    body = protocol.canonical_json(message.to_dict())
    headers = signing.sign_request(
        agent.key, host=agent.name, method="POST", path=protocol.TASK_REPORT_PATH, body=body
    )
    return body, headers


@pytest.mark.parametrize("task_id", ["63917172-e763-4ad9-aeec-e9d3f9ef8fc0"], ids=["a job of no host"])
def test_a_replayed_report_is_refused_even_when_it_names_no_job_of_the_host(agent, task_id):
    body, headers = report_about(agent, task_id)

    def send():
        return agent.client.generic(
            "POST", protocol.TASK_REPORT_PATH, body, content_type="application/json", headers=headers
        )

    first, replay = send(), send()

    assert (first.status_code, first.json()["error"]["code"]) == (409, "not_this_hosts_task")
    assert (replay.status_code, replay.json()["error"]["code"]) == (401, "agent_replay")
