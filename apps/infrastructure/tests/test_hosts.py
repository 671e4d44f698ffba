"""Zones and hosts through the API: who may manage and see them, enrollment tokens, heartbeats."""

import base64
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.conftest import login
from apps.core import policy
from apps.core.errors import Conflict, NotAuthenticated, ValidationFailed
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.infrastructure.models import Host
from apps.infrastructure.services.enrollment import enroll
from apps.infrastructure.services.heartbeats import mark_silent_hosts_down, record_heartbeat

from .factories import HostFactory, ZoneFactory, agent_public_key

CAPACITY = {
    "cpus": 4,
    "ram_mb": 8192,
    "disk_gb": 100,
    "hypervisor_type": "qemu",
    "hypervisor_version": "7.2.0",
    "arch": "x86_64",
    "protocol_version": 1,
}


def tenant_api():
    project = ProjectFactory()
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_MEMBER, project)
    return login(user)


def add_host(admin_api, name="kvm-01.example.test", **fields):
    zone = ZoneFactory(name="zone-a")
    response = admin_api.post(
        "/api/v1/hosts/", {"name": name, "zone_id": str(zone.id), **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.data


def test_an_admin_adds_a_host_and_gets_a_one_time_enrollment_token(admin_api):
    body = add_host(admin_api)
    assert body["state"] == "enrolling"
    assert body["enrollment_token"]
    assert "enrollment_token" not in admin_api.get(f"/api/v1/hosts/{body['id']}/").data
    # Only a hash is stored.
    assert not Host.objects.get(pk=body["id"]).enrollment_tokens.filter(token_hash=body["enrollment_token"])


def test_enrollment_registers_the_key_and_the_token_works_only_once(admin_api):
    body = add_host(admin_api)
    host = enroll(body["enrollment_token"], agent_public_key(), client_address="192.0.2.7")
    assert host.state == Host.DOWN
    assert len(base64.b64decode(host.public_key)) == 32
    assert host.management_ip == "192.0.2.7"
    with pytest.raises(NotAuthenticated) as caught:
        enroll(body["enrollment_token"], agent_public_key())
    assert caught.value.code == "bad_enrollment_token"


def test_an_expired_enrollment_token_is_refused(admin_api, settings):
    body = add_host(admin_api)
    later = timezone.now() + timedelta(seconds=settings.CLOUDMGR_ENROLLMENT_TOKEN_LIFETIME_SECONDS + 1)
    with time_machine.travel(later):
        with pytest.raises(NotAuthenticated) as caught:
            enroll(body["enrollment_token"], agent_public_key())
        assert caught.value.code == "bad_enrollment_token"
    assert Host.objects.get(pk=body["id"]).state == Host.ENROLLING


def test_a_new_token_replaces_the_unused_one(admin_api):
    body = add_host(admin_api)
    response = admin_api.post(f"/api/v1/hosts/{body['id']}/enrollment-token/")
    assert response.status_code == 201
    for token, works in ((body["enrollment_token"], False), (response.data["enrollment_token"], True)):
        try:
            enroll(token, agent_public_key())
            worked = True
        except NotAuthenticated:
            worked = False
        assert worked is works


def test_a_key_that_is_not_ed25519_is_refused(admin_api):
    body = add_host(admin_api)
    with pytest.raises(ValidationFailed) as caught:
        enroll(body["enrollment_token"], base64.b64encode(b"x" * 31).decode())
    assert caught.value.code == "bad_public_key"
    assert Host.objects.get(pk=body["id"]).state == Host.ENROLLING


def test_a_heartbeat_brings_an_enrolled_host_up_with_its_capacity(admin_api):
    host = enroll(add_host(admin_api)["enrollment_token"], agent_public_key())
    record_heartbeat(host, CAPACITY)
    host.refresh_from_db()
    assert (host.state, host.cpus, host.ram_mb, host.disk_gb, host.arch) == ("up", 4, 8192, 100, "x86_64")
    # Limits follow in the same statement: (8192 - 512) * 1.5, 4 * 16, 100 * 1.0.
    assert (host.ram_mb_limit, host.vcpus_limit, host.disk_gb_limit) == (11520, 64, 100)
    assert host.last_heartbeat_at is not None


def test_a_host_that_has_not_enrolled_cannot_heartbeat(admin_api):
    host = Host.objects.get(pk=add_host(admin_api)["id"])
    with pytest.raises(Conflict) as caught:
        record_heartbeat(host, CAPACITY)
    assert caught.value.code == "host_invalid_state"


def test_a_heartbeat_with_a_negative_size_is_refused(root):
    host = HostFactory()
    with pytest.raises(ValidationFailed) as caught:
        record_heartbeat(host, {**CAPACITY, "ram_mb": -1})
    assert caught.value.code == "bad_heartbeat"


def test_hosts_that_miss_heartbeats_are_marked_down_and_others_stay_up(root, settings):
    silent = HostFactory(
        last_heartbeat_at=timezone.now() - timedelta(seconds=settings.CLOUDMGR_HOST_DOWN_AFTER_SECONDS + 5)
    )
    alive = HostFactory()
    assert mark_silent_hosts_down() == 1
    silent.refresh_from_db()
    alive.refresh_from_db()
    assert (silent.state, alive.state) == (Host.DOWN, Host.UP)
    record_heartbeat(silent, CAPACITY)
    silent.refresh_from_db()
    assert silent.state == Host.UP


def test_a_tenant_sees_enabled_zones_but_no_hosts(root):
    host = HostFactory(zone=ZoneFactory(name="open"))
    ZoneFactory(name="closed", enabled=False)
    api = tenant_api()
    assert [z["name"] for z in api.get("/api/v1/zones/").data["results"]] == ["open"]
    assert api.get("/api/v1/hosts/").data["results"] == []
    assert api.get(f"/api/v1/hosts/{host.id}/").status_code == 404


def test_a_tenant_cannot_create_a_zone_or_a_host(root):
    api = tenant_api()
    response = api.post("/api/v1/zones/", {"name": "mine"}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (403, "permission_denied")
    zone = ZoneFactory()
    response = api.post("/api/v1/hosts/", {"name": "h1", "zone_id": str(zone.id)}, format="json")
    assert response.status_code == 403
    assert not Host.objects.exists()


def test_a_zone_with_hosts_cannot_be_deleted(admin_api):
    host = HostFactory()
    response = admin_api.delete(f"/api/v1/zones/{host.zone.id}/")
    assert (response.status_code, response.data["error"]["code"]) == (409, "zone_not_empty")


def test_host_names_are_unique_and_dns_like(admin_api):
    add_host(admin_api, name="kvm-01")
    zone = ZoneFactory(name="zone-a")
    response = admin_api.post("/api/v1/hosts/", {"name": "kvm-01", "zone_id": str(zone.id)}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (409, "already_exists")
    response = admin_api.post("/api/v1/hosts/", {"name": "KVM 02", "zone_id": str(zone.id)}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (400, "validation_error")
    assert "name" in response.data["error"]["details"]


def test_an_admin_sets_ratios_and_reserves_and_sees_the_resulting_limits(admin_api):
    host = HostFactory(cpus=8, ram_mb=16384, disk_gb=500, reserved_host_memory_mb=512)
    response = admin_api.patch(
        f"/api/v1/hosts/{host.id}/",
        {
            "ram_allocation_ratio": 1.0,
            "reserved_host_memory_mb": 1024,
            "maintenance": True,
            "tags": ["ssd", " ssd"],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.data["limits"] == {"vcpus": 128, "ram_mb": 15360, "disk_gb": 500}
    assert response.data["effective_ratios"]["ram"] == 1.0
    assert response.data["maintenance"] is True
    assert response.data["tags"] == ["ssd"]


def test_a_ratio_must_be_positive(admin_api):
    host = HostFactory()
    response = admin_api.patch(f"/api/v1/hosts/{host.id}/", {"cpu_allocation_ratio": 0}, format="json")
    assert response.status_code == 400
    assert "cpu_allocation_ratio" in response.data["error"]["details"]
