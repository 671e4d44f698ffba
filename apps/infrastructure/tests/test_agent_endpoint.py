"""The agents' endpoint: enrollment by one-time token, and heartbeats signed by the host's own key."""

import io

import pytest
from django.core.management import CommandError, call_command

from agent import protocol, signing
from apps.infrastructure.models import Host
from apps.infrastructure.services.hosts import add_host
from apps.infrastructure.task_key import controller_public_keys

from .agents import SYSTEM, SignedAgent, heartbeat_message
from .factories import ZoneFactory


def enroll_request(token, key, host=""):
    return protocol.EnrollRequest(
        protocol_version=protocol.PROTOCOL_VERSION,
        host=host,
        token=token,
        public_key=signing.public_key_b64(key),
    )


def post_enroll(client, message):
    return client.post(
        protocol.ENROLL_PATH, protocol.canonical_json(message.to_dict()), content_type="application/json"
    )


@pytest.fixture
def new_host(root):
    return add_host(SYSTEM, name="kvm-01", zone=ZoneFactory(name="zone-a"))


def test_enrollment_answers_the_host_name_and_the_keys_tasks_are_signed_with(client, new_host, signing_key):
    host, token = new_host
    key = signing.generate_private_key()
    response = post_enroll(client, enroll_request(token, key))
    assert response.status_code == 200, response.content
    answer = protocol.EnrollResponse.from_dict(response.json())
    assert answer.host == "kvm-01"
    assert answer.controller_public_keys == [signing.public_key_b64(signing_key)]
    host.refresh_from_db()
    assert (host.state, host.public_key) == ("down", signing.public_key_b64(key))
    again = post_enroll(client, enroll_request(token, key))
    assert (again.status_code, again.json()["error"]["code"]) == (401, "bad_enrollment_token")


def test_a_token_named_for_another_host_is_refused_and_stays_usable(client, new_host, signing_key):
    _, token = new_host
    key = signing.generate_private_key()
    response = post_enroll(client, enroll_request(token, key, host="kvm-99"))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "token_for_other_host")
    assert post_enroll(client, enroll_request(token, key, host="kvm-01")).status_code == 200


def test_a_malformed_enrollment_is_a_400(client, root):
    response = client.post(protocol.ENROLL_PATH, b'{"token": 1}', content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "malformed")


def test_a_signed_heartbeat_brings_the_host_up_with_what_it_measured(root):
    agent = SignedAgent.enrolled("kvm-01")
    response = agent.heartbeat(cpus=8, ram_mb=32768, disk_free_mb=50 * 1024 + 100)
    assert response.status_code == 200, response.content
    host = Host.objects.get(name="kvm-01")
    assert (host.state, host.cpus, host.ram_mb, host.disk_gb) == ("up", 8, 32768, 50)
    assert (host.hypervisor_type, host.arch, host.protocol_version) == ("qemu", "x86_64", 1)


def test_an_unsigned_heartbeat_is_refused(client, root):
    SignedAgent.enrolled("kvm-01")
    body = protocol.canonical_json(heartbeat_message("kvm-01").to_dict())
    response = client.post(protocol.HEARTBEAT_PATH, body, content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "agent_unsigned")
    assert Host.objects.get(name="kvm-01").state == "down"


def test_a_host_cannot_sign_as_another_host_nor_send_another_hosts_heartbeat(root):
    victim = SignedAgent.enrolled("kvm-01")
    attacker = SignedAgent.enrolled("kvm-02")
    forged = attacker.post(
        protocol.HEARTBEAT_PATH, heartbeat_message("kvm-01"), signer=("kvm-01", attacker.key)
    )
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "agent_bad_signature")
    about_other = attacker.post(protocol.HEARTBEAT_PATH, heartbeat_message("kvm-01"))
    assert (about_other.status_code, about_other.json()["error"]["code"]) == (403, "other_host")
    assert Host.objects.get(name=victim.name).state == "down"


def test_a_replayed_heartbeat_is_refused(root):
    agent = SignedAgent.enrolled("kvm-01")
    message = heartbeat_message("kvm-01")
    body = protocol.canonical_json(message.to_dict())
    headers = signing.sign_request(
        agent.key, host="kvm-01", method="POST", path=protocol.HEARTBEAT_PATH, body=body
    )
    assert agent.post(protocol.HEARTBEAT_PATH, message, headers=headers).status_code == 200
    replay = agent.post(protocol.HEARTBEAT_PATH, message, headers=headers)
    assert (replay.status_code, replay.json()["error"]["code"]) == (401, "agent_replay")


def test_a_host_that_is_not_enrolled_cannot_heartbeat(root):
    add_host(SYSTEM, name="kvm-03", zone=ZoneFactory(name="zone-a"))
    response = SignedAgent("kvm-03").heartbeat()
    assert (response.status_code, response.json()["error"]["code"]) == (401, "agent_unknown_host")


def test_the_signing_key_command_writes_a_private_file_and_refuses_to_overwrite(tmp_path, settings, root):
    settings.CLOUDMGR_TASK_SIGNING_KEY = ""
    settings.CLOUDMGR_TASK_SIGNING_KEY_FILE = str(tmp_path / "keys" / "signing.pem")
    out = io.StringIO()
    call_command("createsigningkey", stdout=out)
    public = out.getvalue().split("public key: ")[1].strip()
    assert (tmp_path / "keys" / "signing.pem").stat().st_mode & 0o777 == 0o600
    assert controller_public_keys() == [public]
    with pytest.raises(CommandError, match="exists"):
        call_command("createsigningkey")
    call_command("createsigningkey", "--rotate", stdout=out)
    assert controller_public_keys() != [public]
