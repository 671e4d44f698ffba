"""The wire's security: task envelopes signed by the controller, requests signed by the host."""

import hashlib
import time

import pytest

from agent import protocol, signing
from agent.tests.builders import make_spec, new_id, signed

HOST = "compute-1"


@pytest.fixture
def controller_key():
    return signing.generate_private_key()


@pytest.fixture
def spawn_payload():
    image = protocol.ImageRef(new_id(), "a" * 64, 1024, "qcow2")
    return protocol.SpawnInstance(make_spec(image))


def verify(envelope, key, **kwargs):
    kwargs.setdefault("host", HOST)
    return signing.verify_task(envelope, public_keys=[signing.public_key_b64(key)], **kwargs)


def test_a_task_signed_by_the_controller_verifies_with_its_typed_payload(controller_key, spawn_payload):
    envelope = signed(controller_key, protocol.SPAWN_INSTANCE, spawn_payload, HOST)

    task = verify(envelope, controller_key, task=protocol.SPAWN_INSTANCE)

    assert task.payload == spawn_payload
    assert task.task_id == envelope["task_id"]


def test_the_agent_refuses_a_task_signed_by_another_key(controller_key, spawn_payload):
    envelope = signed(signing.generate_private_key(), protocol.SPAWN_INSTANCE, spawn_payload, HOST)

    with pytest.raises(protocol.TaskRefused) as refused:
        verify(envelope, controller_key)
    assert refused.value.code == "bad_signature"


def test_the_agent_refuses_a_task_whose_payload_was_changed_after_signing(controller_key, spawn_payload):
    envelope = signed(controller_key, protocol.SPAWN_INSTANCE, spawn_payload, HOST)
    envelope["payload"]["instance"]["vcpus"] = 64

    with pytest.raises(protocol.TaskRefused) as refused:
        verify(envelope, controller_key)
    assert refused.value.code == "bad_signature"


def test_the_agent_refuses_an_expired_task(controller_key, spawn_payload):
    envelope = signed(
        controller_key, protocol.SPAWN_INSTANCE, spawn_payload, HOST, expires_at=time.time() - 1
    )

    with pytest.raises(protocol.TaskRefused) as refused:
        verify(envelope, controller_key)
    assert refused.value.code == "expired"


def test_the_agent_refuses_a_task_meant_for_another_host(controller_key, spawn_payload):
    envelope = signed(controller_key, protocol.SPAWN_INSTANCE, spawn_payload, "compute-2")

    with pytest.raises(protocol.TaskRefused) as refused:
        verify(envelope, controller_key)
    assert refused.value.code == "wrong_host"


def test_a_task_redirected_to_another_host_name_no_longer_verifies(controller_key, spawn_payload):
    envelope = signed(controller_key, protocol.SPAWN_INSTANCE, spawn_payload, "compute-2")
    envelope["host"] = HOST

    with pytest.raises(protocol.TaskRefused) as refused:
        verify(envelope, controller_key)
    assert refused.value.code == "bad_signature"


def test_the_agent_refuses_a_task_delivered_under_another_task_name(controller_key):
    envelope = signed(controller_key, protocol.START_INSTANCE, protocol.InstanceTask(new_id()), HOST)

    with pytest.raises(protocol.TaskRefused) as refused:
        verify(envelope, controller_key, task=protocol.DELETE_INSTANCE)
    assert refused.value.code == "wrong_task"


def test_the_agent_refuses_an_envelope_with_extra_fields(controller_key):
    envelope = signed(controller_key, protocol.START_INSTANCE, protocol.InstanceTask(new_id()), HOST)
    envelope["note"] = "unsigned"

    with pytest.raises(protocol.TaskRefused) as refused:
        verify(envelope, controller_key)
    assert refused.value.code == "malformed"


def test_any_of_several_controller_keys_is_accepted_during_a_rotation(controller_key):
    envelope = signed(controller_key, protocol.INVENTORY, protocol.InventoryRequest(), HOST)
    old_key = signing.public_key_b64(signing.generate_private_key())

    task = signing.verify_task(
        envelope, public_keys=[old_key, signing.public_key_b64(controller_key)], host=HOST
    )

    assert task.task == protocol.INVENTORY


def test_the_controller_cannot_sign_a_payload_that_breaks_the_schema(controller_key):
    with pytest.raises(protocol.ProtocolError):
        signed(controller_key, protocol.START_INSTANCE, {"instance_id": "../../etc"}, HOST)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"instance_id": "../../etc/passwd"}, "instance_id"),
        ({"vcpus": 0}, "vcpus"),
        ({"kernel_cmdline": "console=ttyS0"}, "kernel_cmdline needs a kernel"),
        ({"arch": "sparc"}, "arch"),
    ],
)
def test_an_instance_spec_outside_the_schema_is_refused(change, message):
    image = protocol.ImageRef(new_id(), "b" * 64, 10, "qcow2")
    data = make_spec(image).to_dict() | change

    with pytest.raises(protocol.ProtocolError, match=message):
        protocol.InstanceSpec.from_dict(data)


def test_unknown_fields_in_a_message_are_refused():
    with pytest.raises(protocol.ProtocolError, match="unknown fields"):
        protocol.InstanceTask.from_dict({"instance_id": new_id(), "force": True})


def test_the_spec_hash_changes_with_any_field_of_the_spec():
    image = protocol.ImageRef(new_id(), "c" * 64, 10, "qcow2")
    spec = make_spec(image)

    assert spec.spec_sha256() == protocol.InstanceSpec.from_dict(spec.to_dict()).spec_sha256()
    assert spec.spec_sha256() != make_spec(image, instance_id=spec.instance_id, ram_mb=512).spec_sha256()


class TestSignedRequests:
    @pytest.fixture
    def host_key(self):
        return signing.generate_private_key()

    def check(self, headers, host_key, **kwargs):
        kwargs.setdefault("method", "POST")
        kwargs.setdefault("path", protocol.HEARTBEAT_PATH)
        keys = {HOST: signing.public_key_b64(host_key)}
        return signing.verify_request(headers, public_key_for_host=keys.get, **kwargs)

    def test_a_signed_request_verifies_and_names_its_host(self, host_key):
        body = b'{"hello":1}'
        headers = signing.sign_request(
            host_key, host=HOST, method="POST", path=protocol.HEARTBEAT_PATH, body=body
        )

        verified = self.check(headers, host_key, body_sha256=hashlib.sha256(body).hexdigest())

        assert verified.host == HOST

    def test_a_request_signed_by_another_hosts_key_is_refused(self, host_key):
        headers = signing.sign_request(
            signing.generate_private_key(), host=HOST, method="POST", path=protocol.HEARTBEAT_PATH
        )

        with pytest.raises(protocol.RequestRefused) as refused:
            self.check(headers, host_key)
        assert refused.value.code == "bad_signature"

    def test_a_request_claiming_an_unknown_host_is_refused(self, host_key):
        headers = signing.sign_request(
            host_key, host="compute-9", method="POST", path=protocol.HEARTBEAT_PATH
        )

        with pytest.raises(protocol.RequestRefused) as refused:
            self.check(headers, host_key)
        assert refused.value.code == "unknown_host"

    def test_a_signed_request_replayed_to_another_path_is_refused(self, host_key):
        headers = signing.sign_request(host_key, host=HOST, method="POST", path=protocol.HEARTBEAT_PATH)

        with pytest.raises(protocol.RequestRefused) as refused:
            self.check(headers, host_key, path=protocol.TASK_REPORT_PATH)
        assert refused.value.code == "bad_signature"

    def test_a_request_with_a_body_other_than_the_signed_one_is_refused(self, host_key):
        headers = signing.sign_request(
            host_key, host=HOST, method="POST", path=protocol.HEARTBEAT_PATH, body=b"a"
        )

        with pytest.raises(protocol.RequestRefused) as refused:
            self.check(headers, host_key, body_sha256=hashlib.sha256(b"b").hexdigest())
        assert refused.value.code == "body_mismatch"

    def test_an_old_request_is_refused(self, host_key):
        headers = signing.sign_request(
            host_key, host=HOST, method="POST", path=protocol.HEARTBEAT_PATH, timestamp=time.time() - 3600
        )

        with pytest.raises(protocol.RequestRefused) as refused:
            self.check(headers, host_key)
        assert refused.value.code == "stale"

    def test_a_replayed_nonce_is_refused(self, host_key):
        seen = set()

        def remember(host, nonce, _ttl):
            if (host, nonce) in seen:
                return False
            seen.add((host, nonce))
            return True

        headers = signing.sign_request(host_key, host=HOST, method="POST", path=protocol.HEARTBEAT_PATH)
        self.check(headers, host_key, remember_nonce=remember)

        with pytest.raises(protocol.RequestRefused) as refused:
            self.check(headers, host_key, remember_nonce=remember)
        assert refused.value.code == "replay"

    def test_header_names_are_matched_without_regard_to_case(self, host_key):
        headers = signing.sign_request(host_key, host=HOST, method="GET", path="/x")

        verified = self.check({k.lower(): v for k, v in headers.items()}, host_key, method="GET", path="/x")

        assert verified.content_sha256 == signing.EMPTY_BODY_SHA256
