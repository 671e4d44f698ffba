"""factory_boy factories for zones and hosts; a HostFactory host is up, heard from now, with room."""

import base64

import factory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from apps.infrastructure import capacity
from apps.infrastructure.models import Host, Zone


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"zone-{n}")


class HostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Host
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"host-{n}.example.test")
    zone = factory.SubFactory(ZoneFactory)
    state = Host.UP
    cpus = 8
    ram_mb = 16384
    disk_gb = 500
    hypervisor_type = "qemu"
    hypervisor_version = "7.2.0"
    arch = "x86_64"
    protocol_version = 1
    last_heartbeat_at = factory.LazyFunction(timezone.now)
    reserved_host_memory_mb = 512
    reserved_host_disk_mb = 0

    @factory.post_generation
    def limits(obj, create, extracted, **kwargs):
        """Stored limits, as a heartbeat would leave them."""
        if create:
            capacity.refresh_limits(Host.objects.filter(pk=obj.pk))
            obj.refresh_from_db()


def agent_public_key():
    """What an enrolling agent sends: base64 of a fresh Ed25519 public key's raw bytes."""
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()
