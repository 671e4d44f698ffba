"""Serializers of the API-key endpoints; the secret appears only in the creation response."""

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer

from ..models import ApiKey


class ApiKeySerializer(ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    project_id = serializers.UUIDField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "access_key",
            "name",
            "user_id",
            "username",
            "project_id",
            "enabled",
            "disabled_by_admin",
            "created_at",
        ]
        read_only_fields = ["id", "access_key", "enabled", "disabled_by_admin", "created_at"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    secret = serializers.CharField(help_text="Shown in this response only; the controller keeps it sealed.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "secret"]


class ApiKeyUpdateSerializer(ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["name", "enabled"]
        extra_kwargs = {f: {"required": False} for f in fields}
