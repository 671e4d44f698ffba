"""Audit API: read-only, filterable."""

import django_filters
from rest_framework import mixins, serializers

from apps.core.api.filters import FilterSet, IsoDateTimeFilter
from apps.core.api.serializers import ModelSerializer
from apps.core.api.views import ServiceViewSet

from ..models import AuditEvent
from ..selectors import details_for, events_for


class AuditEventSerializer(ModelSerializer):
    details = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "timestamp",
            "actor_id",
            "actor_name",
            "interface",
            "client_address",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "project_id",
            "outcome",
            "error_code",
            "error_message",
            "details",
        ]

    def get_details(self, event) -> dict:
        return details_for(self.context["principal"], event)


class AuditEventFilter(FilterSet):
    since = IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    actor = django_filters.CharFilter(field_name="actor_name", help_text="A username, exactly.")

    class Meta:
        model = AuditEvent
        fields = [
            "actor_id",
            "actor_name",
            "action",
            "outcome",
            "object_type",
            "object_id",
            "project_id",
            "interface",
            "error_code",
        ]


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return events_for(self.principal)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "principal": self.principal}
