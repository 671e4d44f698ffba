"""Serializers of the zones and hosts API."""

from dataclasses import asdict

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer

from ..capacity import MAX_ALLOCATION_RATIO, MAX_RESERVED_MB, limits_of
from ..models import Host, Zone, host_name_validator
from ..services.hosts import UPDATABLE


class ZoneSerializer(ModelSerializer):
    class Meta:
        model = Zone
        fields = ["id", "name", "description", "enabled", "created_at"]
        read_only_fields = ["id", "created_at"]


class ZoneUpdateSerializer(ModelSerializer):
    class Meta:
        model = Zone
        fields = ["name", "description", "enabled"]
        extra_kwargs = {f: {"required": False} for f in fields}


# What an admin sets; the order of the service's list, so the API shows them the same way.
_ADMIN_FIELDS = list(UPDATABLE)
_RATIO = {"required": False, "allow_null": True, "min_value": 0.01, "max_value": MAX_ALLOCATION_RATIO}
_RESERVE = {"required": False, "min_value": 0, "max_value": MAX_RESERVED_MB}
_ADMIN_FIELD_KWARGS = {
    "ram_allocation_ratio": _RATIO,
    "cpu_allocation_ratio": _RATIO,
    "disk_allocation_ratio": _RATIO,
    "reserved_host_memory_mb": _RESERVE,
    "reserved_host_disk_mb": _RESERVE,
}


class HostSerializer(ModelSerializer):
    zone_id = serializers.UUIDField()
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    effective_ratios = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()
    unmanaged_domains = serializers.SerializerMethodField()

    class Meta:
        model = Host
        fields = [
            "id",
            "name",
            "zone_id",
            "zone_name",
            "state",
            "state_changed_at",
            *_ADMIN_FIELDS,
            "cpus",
            "ram_mb",
            "disk_gb",
            "hypervisor_type",
            "hypervisor_version",
            "arch",
            "protocol_version",
            "last_heartbeat_at",
            "inventory_reported_at",
            "unmanaged_domains",
            "cached_images",
            "stuck_operations",
            "transfer_port",
            "migration_gateway_port",
            "live_migration",
            "tls_certificate_serial",
            "vcpus_used",
            "ram_mb_used",
            "disk_gb_used",
            "effective_ratios",
            "limits",
            "created_at",
        ]
        read_only_fields = [f for f in fields if f not in ("name", "zone_id", *_ADMIN_FIELDS)]
        extra_kwargs = {
            **_ADMIN_FIELD_KWARGS,
            # Uniqueness is the service's to report (409), not the serializer's.
            "name": {"validators": [host_name_validator]},
        }

    def get_effective_ratios(self, host) -> dict:
        return {
            "ram": host.effective_ram_allocation_ratio,
            "cpu": host.effective_cpu_allocation_ratio,
            "disk": host.effective_disk_allocation_ratio,
        }

    def get_limits(self, host) -> dict:
        """What the scheduler lets the host hold: (total - reserve) * ratio."""
        return asdict(limits_of(host))

    def get_unmanaged_domains(self, host) -> list:
        """Domains on the host without cloudmgr's metadata, as its last heartbeat listed them."""
        return host.reported_inventory.get("unmanaged_domains", [])


class HostCreatedSerializer(HostSerializer):
    enrollment_token = serializers.CharField(read_only=True)

    class Meta(HostSerializer.Meta):
        fields = [*HostSerializer.Meta.fields, "enrollment_token"]


class HostUpdateSerializer(ModelSerializer):
    class Meta:
        model = Host
        fields = _ADMIN_FIELDS
        extra_kwargs = {**{f: {"required": False} for f in _ADMIN_FIELDS}, **_ADMIN_FIELD_KWARGS}


class EnrollmentTokenSerializer(serializers.Serializer):
    enrollment_token = serializers.CharField()


class EnrollmentTokenRequestSerializer(serializers.Serializer):
    # The host lost its key: revoke it now, and let the token enroll without a signature by it.
    key_lost = serializers.BooleanField(default=False)


class FenceSerializer(serializers.Serializer):
    confirm_powered_off = serializers.BooleanField(default=False)
