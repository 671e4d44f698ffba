"""Offerings, keypairs and affinity groups through the API and `manage.py createoffering`."""

import io

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.management import CommandError, call_command

from apps.compute.models import AffinityGroup, Keypair, ServiceOffering
from apps.compute.services.affinity import create_affinity_group
from apps.core.actor import Actor
from apps.core.errors import ValidationFailed
from apps.identity.tests.factories import DomainFactory
from apps.quotas import services as quotas

from .factories import InstanceFactory, OfferingFactory


def openssh(public_key):
    return public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def test_a_cloud_admin_creates_an_offering_limited_to_a_domain(admin_api):
    acme = DomainFactory(name="acme")
    body = {
        "name": "c1.large",
        "vcpus": 4,
        "ram_mb": 8192,
        "root_disk_gb": 40,
        "ephemeral_disk_gb": 20,
        "host_tags": ["ssd", "ssd "],
        "public": False,
        "domain_ids": [str(acme.id)],
    }
    response = admin_api.post("/api/v1/offerings/", body, format="json")
    assert response.status_code == 201, response.content
    assert (response.data["host_tags"], response.data["domain_ids"]) == (["ssd"], [str(acme.id)])
    response = admin_api.post("/api/v1/offerings/", body, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (409, "already_exists")


def test_offering_sizes_are_checked(admin_api):
    body = {"name": "zero", "vcpus": 0, "ram_mb": 8, "root_disk_gb": 0}
    response = admin_api.post("/api/v1/offerings/", body, format="json")
    assert response.status_code == 400
    assert set(response.data["error"]["details"]) == {"vcpus", "ram_mb", "root_disk_gb"}


def test_a_tenant_may_read_offerings_but_not_manage_them(api):
    offering = OfferingFactory(name="visible")
    assert [o["name"] for o in api.get("/api/v1/offerings/").data["results"]] == ["visible"]
    response = api.patch(f"/api/v1/offerings/{offering.id}/", {"enabled": False}, format="json")
    assert response.status_code == 403
    body = {"name": "mine", "vcpus": 1, "ram_mb": 512, "root_disk_gb": 1}
    assert api.post("/api/v1/offerings/", body, format="json").status_code == 403


def test_a_disabled_offering_disappears_for_tenants_and_one_in_use_cannot_be_deleted(api, admin_api):
    offering = OfferingFactory(name="retiring")
    InstanceFactory(offering=offering)
    response = admin_api.delete(f"/api/v1/offerings/{offering.id}/")
    assert (response.status_code, response.data["error"]["code"]) == (409, "offering_in_use")
    assert (
        admin_api.patch(f"/api/v1/offerings/{offering.id}/", {"enabled": False}, format="json").status_code
        == 200
    )
    assert api.get("/api/v1/offerings/").data["results"] == []


def test_createoffering_makes_a_public_or_a_domain_limited_offering(root):
    DomainFactory(name="acme")
    out = io.StringIO()
    call_command(
        "createoffering", "m1.tiny", "--vcpus", "1", "--ram-mb", "512", "--root-disk-gb", "1", stdout=out
    )
    assert "(public)" in out.getvalue()
    call_command(
        "createoffering",
        "acme.big",
        "--vcpus",
        "8",
        "--ram-mb",
        "16384",
        "--root-disk-gb",
        "80",
        "--domain",
        "acme",
        "--host-tag",
        "ssd",
        stdout=out,
    )
    limited = ServiceOffering.objects.get(name="acme.big")
    assert (limited.public, [d.name for d in limited.domains.all()], limited.host_tags) == (
        False,
        ["acme"],
        ["ssd"],
    )
    with pytest.raises(CommandError, match="already_exists"):
        call_command("createoffering", "m1.tiny", "--vcpus", "1", "--ram-mb", "512", "--root-disk-gb", "1")


@pytest.mark.parametrize(
    ("key_type", "private_class"), [("ed25519", ed25519.Ed25519PrivateKey), ("rsa", rsa.RSAPrivateKey)]
)
def test_a_generated_keypair_gives_its_private_key_once(api, key_type, private_class):
    response = api.post("/api/v1/keypairs/", {"name": f"gen-{key_type}", "key_type": key_type}, format="json")
    assert response.status_code == 201, response.content
    private = serialization.load_ssh_private_key(response.data["private_key"].encode(), password=None)
    assert isinstance(private, private_class)
    assert openssh(private.public_key()) == response.data["public_key"]
    assert response.data["fingerprint"].startswith("SHA256:")
    shown_again = api.get(f"/api/v1/keypairs/{response.data['id']}/").data
    assert "private_key" not in shown_again
    assert response.data["private_key"] not in str(Keypair.objects.values().get(pk=response.data["id"]))


def test_an_imported_key_is_stored_with_the_fingerprint_ssh_keygen_prints(api):
    line = openssh(ed25519.Ed25519PrivateKey.generate().public_key())
    response = api.post(
        "/api/v1/keypairs/", {"name": "laptop", "public_key": line + " me@laptop"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.data["private_key"] is None
    assert response.data["public_key"] == line
    assert response.data["key_type"] == "ssh-ed25519"


@pytest.mark.parametrize(
    ("public_key", "code"),
    [
        ("ssh-ed25519 not-base64", "bad_public_key"),
        ("hello", "bad_public_key"),
        (
            # A weak key on purpose: the test proves it is refused.
            openssh(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()),  # noqa: S505
            "weak_public_key",
        ),
    ],
)
def test_a_bad_public_key_is_refused_with_its_code(api, public_key, code):
    response = api.post("/api/v1/keypairs/", {"name": "bad", "public_key": public_key}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (400, code)
    assert not Keypair.objects.exists()


def test_keypair_names_are_unique_in_a_project(api):
    assert api.post("/api/v1/keypairs/", {"name": "one"}, format="json").status_code == 201
    response = api.post("/api/v1/keypairs/", {"name": "one"}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (409, "already_exists")


def test_an_affinity_group_with_live_members_cannot_be_deleted(api, project):
    group = api.post("/api/v1/affinity-groups/", {"name": "db", "policy": "affinity"}, format="json").data
    instance = InstanceFactory(project=project, affinity_group_id=group["id"])
    assert api.get(f"/api/v1/affinity-groups/{group['id']}/").data["instance_ids"] == [str(instance.id)]
    response = api.delete(f"/api/v1/affinity-groups/{group['id']}/")
    assert (response.status_code, response.data["error"]["code"]) == (409, "affinity_group_not_empty")
    # As a confirmed delete leaves it: deleted, its quota given back.
    type(instance).objects.filter(pk=instance.pk).update(vm_state="deleted")
    quotas.release(instance)
    assert api.delete(f"/api/v1/affinity-groups/{group['id']}/").status_code == 204


def test_an_affinity_group_policy_is_one_of_two(api, project):
    response = api.post("/api/v1/affinity-groups/", {"name": "x", "policy": "soft"}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (400, "validation_error")
    with pytest.raises(ValidationFailed) as refused:
        create_affinity_group(Actor.system("test"), project, name="x", policy="soft")
    assert refused.value.code == "bad_affinity_policy"
    assert not AffinityGroup.objects.exists()
