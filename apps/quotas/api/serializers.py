"""Serializers of the quotas API."""

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer
from apps.core.bounds import column_bounds

from ..models import UNLIMITED, DefaultQuota, QuotaUsage


class QuotaSerializer(ModelSerializer):
    used = serializers.IntegerField(source="usage", read_only=True)
    scope = serializers.SerializerMethodField()
    scope_id = serializers.SerializerMethodField()
    scope_name = serializers.SerializerMethodField()

    class Meta:
        model = QuotaUsage
        fields = ["id", "scope", "scope_id", "scope_name", "resource", "limit", "used"]
        read_only_fields = ["id", "scope", "scope_id", "scope_name", "resource", "used"]

    def _owner(self, obj):
        return obj.project if obj.project_id else obj.domain

    def get_scope(self, obj) -> str:
        return "project" if obj.project_id else "domain"

    def get_scope_id(self, obj) -> str:
        return str(self._owner(obj).pk)

    def get_scope_name(self, obj) -> str:
        return self._owner(obj).name


class LimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(**column_bounds(QuotaUsage, "limit", min_value=UNLIMITED))


class DefaultQuotaSerializer(ModelSerializer):
    class Meta:
        model = DefaultQuota
        fields = ["resource", "limit"]
