"""A host's life beyond its first enrollment: key rotation signed with the old key, TLS certificates from the
controller's CA, agents one protocol version behind, fencing, and removal (its key and queue with it)."""

import io

import pytest
import redis
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command

from agent import pki, protocol, signing
from apps.compute.tests.factories import InstanceFactory
from apps.infrastructure import host_ca as host_ca_module
from apps.infrastructure import wire
from apps.infrastructure.models import Host
from apps.infrastructure.services.fencing import fence_host
from apps.infrastructure.services.hosts import add_host, issue_enrollment_token

from .agents import SYSTEM, SignedAgent, heartbeat_message
from .factories import ZoneFactory

pytestmark = pytest.mark.usefixtures("signing_key")


def enroll_request(token, key, *, version=protocol.PROTOCOL_VERSION, tls_csr=""):
    return protocol.EnrollRequest(
        protocol_version=version,
        host="",
        token=token,
        public_key=signing.public_key_b64(key),
        tls_csr=tls_csr,
    )


def enroll_through_the_endpoint(client, request, signer=None):
    """POST an enrollment, signed by (name, key) when given: a rotation proves the old key so."""
    body = protocol.canonical_json(request.to_dict())
    headers = {}
    if signer is not None:
        name, key = signer
        headers = signing.sign_request(key, host=name, method="POST", path=protocol.ENROLL_PATH, body=body)
    return client.generic(
        "POST", protocol.ENROLL_PATH, body, content_type="application/json", headers=headers
    )


def test_enrolling_again_rotates_the_key_only_when_signed_with_the_current_one(client, root):
    agent = SignedAgent.enrolled("kvm-01")
    host = Host.objects.get(name="kvm-01")
    new_key = signing.generate_private_key()

    unsigned = enroll_through_the_endpoint(
        client, enroll_request(issue_enrollment_token(SYSTEM, host), new_key)
    )
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "old_key_signature_required")
    forged = enroll_through_the_endpoint(
        client,
        enroll_request(issue_enrollment_token(SYSTEM, host), new_key),
        signer=("kvm-01", signing.generate_private_key()),
    )
    assert forged.status_code == 401
    assert Host.objects.get(name="kvm-01").public_key == signing.public_key_b64(agent.key)

    rotated = enroll_through_the_endpoint(
        client, enroll_request(issue_enrollment_token(SYSTEM, host), new_key), signer=("kvm-01", agent.key)
    )

    assert rotated.status_code == 200, rotated.content
    assert Host.objects.get(name="kvm-01").public_key == signing.public_key_b64(new_key)
    assert agent.heartbeat().json()["error"]["code"] == "agent_bad_signature"
    assert SignedAgent("kvm-01", new_key).heartbeat().status_code == 200


def test_a_token_for_a_lost_key_revokes_the_old_key_at_once_and_enrolls_unsigned(client, root, admin_api):
    agent = SignedAgent.enrolled("kvm-01")
    host = Host.objects.get(name="kvm-01")

    response = admin_api.post(f"/api/v1/hosts/{host.pk}/enrollment-token/", {"key_lost": True}, format="json")

    assert response.status_code == 201
    assert agent.heartbeat().json()["error"]["code"] == "agent_unknown_host"
    new_key = signing.generate_private_key()
    enrolled = enroll_through_the_endpoint(client, enroll_request(response.data["enrollment_token"], new_key))
    assert enrolled.status_code == 200, enrolled.content


def test_an_agent_one_version_behind_is_accepted_and_an_older_one_is_refused_saying_so(client, root):
    zone = ZoneFactory(name="zone-a")
    _, token = add_host(SYSTEM, name="kvm-old", zone=zone)
    behind = enroll_through_the_endpoint(
        client, enroll_request(token, signing.generate_private_key(), version=protocol.PROTOCOL_VERSION - 1)
    )
    assert behind.status_code == 200, behind.content
    assert set(behind.json()) == {"host", "controller_public_keys"}
    assert Host.objects.get(name="kvm-old").protocol_version == protocol.PROTOCOL_VERSION - 1
    # Its tasks are signed in the version it reads.
    assert wire.version_for(Host.objects.get(name="kvm-old")) == protocol.PROTOCOL_VERSION - 1

    _, token = add_host(SYSTEM, name="kvm-older", zone=zone)
    older = enroll_through_the_endpoint(
        client, enroll_request(token, signing.generate_private_key(), version=protocol.PROTOCOL_VERSION - 2)
    )
    assert (older.status_code, older.json()["error"]["code"]) == (409, "unsupported_version")
    assert "upgrade the agent" in older.json()["error"]["message"]
    agent = SignedAgent.enrolled("kvm-02")
    stale = agent.post(
        protocol.HEARTBEAT_PATH,
        {**heartbeat_message("kvm-02").to_dict(), "protocol_version": protocol.PROTOCOL_VERSION - 2},
    )
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "unsupported_version")


def test_the_host_ca_certifies_the_hosts_tls_key_in_its_name_for_both_roles(client, root, host_ca, tmp_path):
    _, token = add_host(SYSTEM, name="kvm-01", zone=ZoneFactory(name="zone-a"), management_ip="192.0.2.10")
    csr = pki.new_request(tmp_path, "whatever-the-host-asks")

    response = enroll_through_the_endpoint(
        client, enroll_request(token, signing.generate_private_key(), tls_csr=csr)
    )

    assert response.status_code == 200, response.content
    certificate = x509.load_pem_x509_certificate(response.json()["tls_certificate"].encode())
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kvm-01"
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["kvm-01"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["192.0.2.10"]
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usage) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    pki.install(tmp_path, response.json()["tls_certificate"], response.json()["tls_ca_certificate"])
    assert pki.has_certificate(tmp_path)
    assert Host.objects.get(name="kvm-01").tls_certificate_serial == format(certificate.serial_number, "x")
    assert "PRIVATE KEY" not in response.content.decode()


def test_a_request_the_ca_cannot_read_is_refused_and_without_a_ca_hosts_enroll_uncertified(
    client, root, host_ca, settings
):
    zone = ZoneFactory(name="zone-a")
    _, token = add_host(SYSTEM, name="kvm-01", zone=zone)
    bad = enroll_through_the_endpoint(
        client, enroll_request(token, signing.generate_private_key(), tls_csr="junk")
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "bad_tls_csr")
    settings.CLOUDMGR_HOST_CA_KEY_FILE = "/nonexistent/key.pem"
    assert not host_ca_module.configured()
    response = enroll_through_the_endpoint(
        client, enroll_request(token, signing.generate_private_key(), tls_csr="x")
    )
    assert (response.status_code, response.json()["tls_certificate"]) == (200, "")


def test_the_ca_command_writes_a_private_key_and_refuses_to_replace_it(tmp_path, settings, root):
    settings.CLOUDMGR_HOST_CA_KEY_FILE = str(tmp_path / "ca" / "key.pem")
    settings.CLOUDMGR_HOST_CA_CERT_FILE = str(tmp_path / "ca" / "ca.pem")
    call_command("createhostca", stdout=io.StringIO())
    assert (tmp_path / "ca" / "key.pem").stat().st_mode & 0o777 == 0o600
    with pytest.raises(Exception, match="exists"):
        call_command("createhostca", stdout=io.StringIO())


def test_a_fenced_host_stays_fenced_when_it_heartbeats_and_is_told_so(root):
    agent = SignedAgent.enrolled("kvm-01")
    assert agent.heartbeat().json() == {"fenced": False}
    Host.objects.filter(name="kvm-01").update(state=Host.DOWN)
    fence_host(SYSTEM, Host.objects.get(name="kvm-01"), confirmed_off=True)

    answer = agent.heartbeat()

    assert (answer.status_code, answer.json()) == (200, {"fenced": True})
    assert Host.objects.get(name="kvm-01").state == Host.FENCED


def test_a_host_with_instances_is_not_removed_and_an_empty_one_goes_with_its_key_and_queue(
    admin_api, root, settings, django_capture_on_commit_callbacks
):
    agent = SignedAgent.enrolled("kvm-01")
    host = Host.objects.get(name="kvm-01")
    instance = InstanceFactory(host=host)
    refused = admin_api.delete(f"/api/v1/hosts/{host.pk}/")
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "host_not_empty")
    assert "1 instance" in refused.data["error"]["message"]

    type(instance).objects.filter(pk=instance.pk).update(vm_state="deleted", host=None)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.rpush(host.queue, b"a task sent before")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.delete(f"/api/v1/hosts/{host.pk}/")

    assert response.status_code == 204
    assert not broker.exists(host.queue)
    assert agent.heartbeat().json()["error"]["code"] == "agent_unknown_host"
