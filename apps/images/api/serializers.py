"""Serializers of the images API: shapes and field validation only, no business rules."""

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer
from apps.core.bounds import column_bounds

from .. import formats
from ..models import Image, ImageMember

PROPERTY_FIELDS = ["min_ram_mb", "min_disk_gb", "architecture", "hypervisor_type", "os_type", "isolated"]


class ImageSerializer(ModelSerializer):
    owner = serializers.UUIDField(source="owner_id")
    # Blank until the image has data (the model's blank=True, which a read-only field does not carry).
    source = serializers.ChoiceField(choices=Image.SOURCES, allow_blank=True, read_only=True)
    kernel_id = serializers.UUIDField(allow_null=True)
    ramdisk_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = Image
        fields = [
            "id",
            "name",
            "status",
            "status_reason",
            "visibility",
            "protected",
            "deactivated",
            "owner",
            "disk_format",
            "container_format",
            "size_bytes",
            "virtual_size_bytes",
            "sha256",
            "source",
            "store",
            "kernel_id",
            "ramdisk_id",
            *PROPERTY_FIELDS,
            "created_at",
            "updated_at",
            "activated_at",
            "deleted_at",
            "purge_after",
        ]
        read_only_fields = fields


class _Writable(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    visibility = serializers.ChoiceField(choices=[v for v, _ in Image.VISIBILITIES])
    protected = serializers.BooleanField()
    disk_format = serializers.ChoiceField(choices=formats.DISK_FORMATS)
    container_format = serializers.ChoiceField(choices=formats.CONTAINER_FORMATS)
    kernel_id = serializers.UUIDField(allow_null=True)
    ramdisk_id = serializers.UUIDField(allow_null=True)
    min_ram_mb = serializers.IntegerField(**column_bounds(Image, "min_ram_mb"))
    min_disk_gb = serializers.IntegerField(**column_bounds(Image, "min_disk_gb"))
    architecture = serializers.CharField(max_length=32, allow_blank=True)
    hypervisor_type = serializers.CharField(max_length=32, allow_blank=True)
    os_type = serializers.CharField(max_length=32, allow_blank=True)
    isolated = serializers.BooleanField()


class ImageCreateSerializer(_Writable):
    owner = serializers.UUIDField(required=False, help_text="Project id; defaults to the token's project.")
    copy_from = serializers.URLField(
        required=False, max_length=2048, help_text="Import the data from this HTTP(S) URL (a job)."
    )
    location = serializers.URLField(
        required=False, max_length=2048, help_text="Register this HTTP(S) URL as the data (admins)."
    )

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if name not in ("name", "disk_format"):
                field.required = False
        return fields

    def validate(self, attrs):
        if attrs.get("copy_from") and attrs.get("location"):
            raise serializers.ValidationError("Give copy_from or location, not both.")
        return attrs


class ImageUpdateSerializer(_Writable):
    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields


class ImportSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2048)
    copy = serializers.BooleanField(
        default=True, help_text="False registers the URL as the image's data without copying (admins)."
    )


class ProjectRefSerializer(serializers.Serializer):
    project_id = serializers.UUIDField()


class OptionalProjectRefSerializer(serializers.Serializer):
    project_id = serializers.UUIDField(required=False, help_text="Defaults to the token's project.")


class MemberSerializer(ModelSerializer):
    image_id = serializers.UUIDField()
    project_id = serializers.UUIDField()

    class Meta:
        model = ImageMember
        fields = ["image_id", "project_id", "status", "created_at", "updated_at"]
        read_only_fields = fields
