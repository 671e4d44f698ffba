"""The host audit API: `GET /api/v1/host-audit/` lists findings, `POST /api/v1/host-audit/run/` audits now."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.serializers import ModelSerializer
from apps.core.api.views import ServiceViewSet
from apps.core.scoping import get_or_404
from apps.infrastructure.models import HostAuditFinding
from apps.infrastructure.selectors import hosts_for

from ..host_audit import findings_for, run_audit


class FindingSerializer(ModelSerializer):
    host_name = serializers.CharField(source="host.name", read_only=True)

    class Meta:
        model = HostAuditFinding
        fields = [
            "id",
            "host_id",
            "host_name",
            "kind",
            "subject",
            "instance_id",
            "domain_name",
            "details",
            "first_seen",
            "last_seen",
            "resolved_at",
        ]
        read_only_fields = fields


class RunAuditSerializer(serializers.Serializer):
    host_id = serializers.UUIDField(required=False, help_text="only this host; all hosts when absent")


class RunResultSerializer(serializers.Serializer):
    open_findings = serializers.IntegerField()


class HostAuditViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Open findings by default; `?resolved=true` lists the resolved ones."""

    serializer_class = FindingSerializer
    filterset_fields = ["host", "kind", "instance_id"]

    def get_queryset(self):
        findings = findings_for(self.principal)
        if self.action == "list":
            resolved = self.request.query_params.get("resolved") == "true"
            findings = findings.filter(resolved_at__isnull=not resolved)
        return findings

    @extend_schema(request=RunAuditSerializer, responses={200: RunResultSerializer})
    @action(detail=False, methods=["post"])
    def run(self, request):
        data = self.validated(RunAuditSerializer)
        hosts = hosts_for(self.principal)
        if "host_id" in data:
            hosts = hosts.filter(pk=get_or_404(hosts, "host", pk=data["host_id"]).pk)
        return Response({"open_findings": run_audit(self.actor, hosts)})
