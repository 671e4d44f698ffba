"""Serializers of the compute API: shapes and field checks only; rules live in the services."""

import base64
import binascii
import hashlib

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer
from apps.infrastructure.selectors import sees_hosts
from apps.networks.api.serializers import FixedIPSerializer as FixedIpRequestSerializer
from apps.networks.selectors import addresses_of

from ..models import AffinityGroup, Instance, Keypair, Migration, ServiceOffering
from ..services.keypairs import ED25519, RSA


class OfferingSerializer(ModelSerializer):
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
            "ha",
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


class OfferingUpdateSerializer(ModelSerializer):
    domain_ids = serializers.ListField(child=serializers.UUIDField(), required=False)

    class Meta:
        model = ServiceOffering
        fields = ["name", "description", "host_tags", "public", "domain_ids", "enabled", "ha"]
        extra_kwargs = {f: {"required": False} for f in fields} | {
            "name": {"required": False, "validators": []}
        }


class KeypairSerializer(ModelSerializer):
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


class AffinityGroupSerializer(ModelSerializer):
    project_id = serializers.UUIDField(required=False)
    instance_ids = serializers.SerializerMethodField()

    class Meta:
        model = AffinityGroup
        fields = ["id", "name", "project_id", "policy", "instance_ids", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"name": {"validators": []}}

    def get_instance_ids(self, group) -> list[str]:
        return [str(pk) for pk in group.instances.exclude(vm_state="deleted").values_list("id", flat=True)]


class FixedIpSerializer(serializers.Serializer):
    subnet_id = serializers.UUIDField()
    ip_address = serializers.IPAddressField()


class NicSerializer(serializers.Serializer):
    """One of an instance's NICs, as its owner sees it (nothing of the host)."""

    port_id = serializers.UUIDField()
    network_id = serializers.UUIDField()
    network_name = serializers.CharField()
    mac_address = serializers.CharField()
    fixed_ips = FixedIpSerializer(many=True)
    floating_ips = serializers.ListField(child=serializers.IPAddressField())


class InstanceListSerializer(serializers.ListSerializer):
    """Reads the NICs of a whole page of instances at once."""

    def to_representation(self, data):
        instances = list(data.all() if hasattr(data, "all") else data)
        self.child.context["addresses"] = addresses_of(i.pk for i in instances)
        return super().to_representation(instances)


class InstanceSerializer(ModelSerializer):
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
    addresses = serializers.SerializerMethodField()

    class Meta:
        model = Instance
        list_serializer_class = InstanceListSerializer
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
            "config_drive",
            "addresses",
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

    @extend_schema_field(NicSerializer(many=True))
    def get_addresses(self, instance):
        """Its NICs in order, with their fixed and floating IPs."""
        known = self.context.get("addresses")
        if known is not None:
            return known.get(instance.pk, [])
        made = getattr(instance, "addresses", None)  # a create answers with what it just made
        return made if made is not None else addresses_of([instance.pk]).get(instance.pk, [])

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


class NicRequestSerializer(serializers.Serializer):
    """A NIC to make on a network, or an unattached port of the project to plug in."""

    network_id = serializers.UUIDField(required=False)
    port_id = serializers.UUIDField(required=False)
    fixed_ips = FixedIpRequestSerializer(many=True, required=False, max_length=8)
    security_group_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=32)

    def validate(self, data):
        if ("network_id" in data) == ("port_id" in data):
            raise serializers.ValidationError("Name a network_id or a port_id.")
        return data


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
    networks = NicRequestSerializer(
        many=True,
        required=False,
        max_length=8,
        help_text="its NICs, in order; absent: the project's network if it may use exactly one",
    )
    config_drive = serializers.BooleanField(required=False, default=False)

    def validate_scheduler_hints(self, hints):
        """Back to plain JSON: the hints are stored with the instance."""
        return {k: [str(v) for v in vs] if isinstance(vs, list) else vs for k, vs in hints.items()}


class AttachInterfaceSerializer(NicRequestSerializer):
    pass


class DetachInterfaceSerializer(serializers.Serializer):
    port_id = serializers.UUIDField()


class InterfaceAcceptedSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    port_id = serializers.UUIDField()


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


class ResizeSerializer(serializers.Serializer):
    offering_id = serializers.UUIDField()


class MoveSerializer(serializers.Serializer):
    """Where a cloud administrator sends an instance: a host (else the scheduler's choice), and whether to
    skip the scheduler's filters for it (`force`; the capacity check is never skipped)."""

    host_id = serializers.UUIDField(required=False, allow_null=True)
    force = serializers.BooleanField(default=False)


class MigrationSerializer(ModelSerializer):
    """A move as cloud administrators see it (host names included)."""

    instance_id = serializers.UUIDField(read_only=True)
    # A host removed since leaves its name; a move is given its job once it starts.
    source_id = serializers.UUIDField(read_only=True, allow_null=True)
    destination_id = serializers.UUIDField(read_only=True, allow_null=True)
    old_offering_id = serializers.UUIDField(read_only=True)
    new_offering_id = serializers.UUIDField(read_only=True)
    job_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Migration
        fields = [
            "id",
            "instance_id",
            "kind",
            "status",
            "reason",
            "source_id",
            "source_name",
            "destination_id",
            "destination_name",
            "old_offering_id",
            "new_offering_id",
            "vm_state_before",
            "job_id",
            "error_code",
            "error_message",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields


class ConsoleLogRequestSerializer(serializers.Serializer):
    max_bytes = serializers.IntegerField(min_value=1, max_value=4 * 1024 * 1024, default=65536)


class ConsoleLogSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    text = serializers.CharField()
    size_bytes = serializers.IntegerField()
    truncated = serializers.BooleanField()
