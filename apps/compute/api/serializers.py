"""Serializers of the compute API: shapes and field checks only; rules live in the services."""

import base64
import binascii
import hashlib

from rest_framework import serializers

from apps.infrastructure.selectors import sees_hosts

from ..models import AffinityGroup, Instance, Keypair, ServiceOffering
from ..services.keypairs import ED25519, RSA


class OfferingSerializer(serializers.ModelSerializer):
    domain_ids = serializers.ListField(child=serializers.UUIDField(), required=False)

    class Meta:
        model = ServiceOffering
        fields = [
            "id",
            "name",
            "description",
            "vcpus",
            "ram_mb",
            "root_disk_gb",
            "ephemeral_disk_gb",
            "host_tags",
            "public",
            "domain_ids",
            "enabled",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            "vcpus": {"min_value": 1},
            "ram_mb": {"min_value": 16},
            "root_disk_gb": {"min_value": 1},
            "name": {"validators": []},
        }

    def to_representation(self, offering):
        data = super().to_representation(offering)
        data["domain_ids"] = [str(d.pk) for d in offering.domains.all()]
        return data


class OfferingUpdateSerializer(serializers.ModelSerializer):
    domain_ids = serializers.ListField(child=serializers.UUIDField(), required=False)

    class Meta:
        model = ServiceOffering
        fields = ["name", "description", "host_tags", "public", "domain_ids", "enabled"]
        extra_kwargs = {f: {"required": False} for f in fields} | {
            "name": {"required": False, "validators": []}
        }


class KeypairSerializer(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Keypair
        fields = ["id", "name", "project_id", "key_type", "public_key", "fingerprint", "created_at"]


class KeypairCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    project_id = serializers.UUIDField(required=False)
    public_key = serializers.CharField(required=False, max_length=16384)
    key_type = serializers.ChoiceField(choices=[ED25519, RSA], default=ED25519)


class KeypairCreatedSerializer(KeypairSerializer):
    private_key = serializers.CharField(read_only=True, allow_null=True)

    class Meta(KeypairSerializer.Meta):
        fields = [*KeypairSerializer.Meta.fields, "private_key"]


class AffinityGroupSerializer(serializers.ModelSerializer):
    project_id = serializers.UUIDField(required=False)
    instance_ids = serializers.SerializerMethodField()

    class Meta:
        model = AffinityGroup
        fields = ["id", "name", "project_id", "policy", "instance_ids", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"name": {"validators": []}}

    def get_instance_ids(self, group) -> list[str]:
        return [str(pk) for pk in group.instances.exclude(vm_state="deleted").values_list("id", flat=True)]


class InstanceSerializer(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    offering_id = serializers.UUIDField(read_only=True)
    offering_name = serializers.CharField(source="offering.name", read_only=True)
    # Each may be gone (deleted image, keypair, group or zone), as the model's null=True says.
    image_id = serializers.UUIDField(read_only=True, allow_null=True)
    keypair_id = serializers.UUIDField(read_only=True, allow_null=True)
    affinity_group_id = serializers.UUIDField(read_only=True, allow_null=True)
    zone_id = serializers.UUIDField(read_only=True, allow_null=True)
    zone_name = serializers.SerializerMethodField()
    host_id = serializers.SerializerMethodField()
    host_name = serializers.SerializerMethodField()
    fault = serializers.SerializerMethodField()

    class Meta:
        model = Instance
        fields = [
            "id",
            "name",
            "project_id",
            "offering_id",
            "offering_name",
            "image_id",
            "keypair_id",
            "affinity_group_id",
            "zone_id",
            "zone_name",
            "host_id",
            "host_name",
            "vm_state",
            "task_state",
            "power_state",
            "fault",
            "vcpus",
            "ram_mb",
            "root_disk_gb",
            "ephemeral_disk_gb",
            "scheduler_hints",
            "created_at",
            "updated_at",
            "launched_at",
            "deleted_at",
        ]
        read_only_fields = fields

    def _sees_hosts(self):
        return sees_hosts(self.context.get("principal"))

    def get_zone_name(self, instance) -> str | None:
        return instance.zone.name if instance.zone_id else None

    def get_host_id(self, instance) -> str | None:
        """Tenants see an opaque id per (project, host): enough to tell co-located instances apart."""
        if instance.host_id is None:
            return None
        if self._sees_hosts():
            return str(instance.host_id)
        return hashlib.sha224(f"{instance.project_id}{instance.host_id}".encode()).hexdigest()

    def get_host_name(self, instance) -> str | None:
        return instance.host.name if instance.host_id and self._sees_hosts() else None

    def get_fault(self, instance) -> dict | None:
        if not instance.fault_code:
            return None
        return {"code": instance.fault_code, "message": instance.fault_message}


class Base64Field(serializers.CharField):
    """Bytes sent as base64 text (the way Nova takes user data)."""

    def run_validation(self, data=serializers.empty):
        # A blank value never reaches to_internal_value: it is no bytes, not "".
        value = super().run_validation(data)
        return b"" if value == "" else value

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serializers.ValidationError("Not valid base64.") from exc


class SchedulerHintsSerializer(serializers.Serializer):
    same_host = serializers.ListField(child=serializers.UUIDField(), required=False)
    different_host = serializers.ListField(child=serializers.UUIDField(), required=False)
    build_near_host_ip = serializers.IPAddressField(required=False)
    cidr = serializers.RegexField(r"^/?\d{1,3}$", required=False)


class InstanceCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=63)
    project_id = serializers.UUIDField(required=False)
    offering_id = serializers.UUIDField()
    image_id = serializers.UUIDField()
    keypair_id = serializers.UUIDField(required=False, allow_null=True)
    user_data = Base64Field(required=False, allow_blank=True, trim_whitespace=False, max_length=90000)
    zone_id = serializers.UUIDField(required=False, allow_null=True)
    affinity_group_id = serializers.UUIDField(required=False, allow_null=True)
    scheduler_hints = SchedulerHintsSerializer(required=False)

    def validate_scheduler_hints(self, hints):
        """Back to plain JSON: the hints are stored with the instance."""
        return {k: [str(v) for v in vs] if isinstance(vs, list) else vs for k, vs in hints.items()}


class JobAcceptedSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()


class InstanceAcceptedSerializer(InstanceSerializer):
    job_id = serializers.UUIDField(read_only=True)

    class Meta(InstanceSerializer.Meta):
        fields = [*InstanceSerializer.Meta.fields, "job_id"]
        read_only_fields = fields


class StopSerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False)


class RebootSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["soft", "hard"], default="soft")


class RebuildSerializer(serializers.Serializer):
    image_id = serializers.UUIDField()


class SnapshotSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)


class SnapshotAcceptedSerializer(serializers.Serializer):
    image_id = serializers.UUIDField()
    job_id = serializers.UUIDField()


class ConsoleLogRequestSerializer(serializers.Serializer):
    max_bytes = serializers.IntegerField(min_value=1, max_value=4 * 1024 * 1024, default=65536)


class ConsoleLogSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    text = serializers.CharField()
    size_bytes = serializers.IntegerField()
    truncated = serializers.BooleanField()
