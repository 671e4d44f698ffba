"""Quotas API: limits and usage of domains and projects, and the defaults for new projects."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from apps.core.api.views import ServiceViewSet
from apps.core.errors import NotFound

from .. import resources, selectors, services
from ..models import DefaultQuota
from . import serializers as s


class QuotaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.QuotaSerializer
    filterset_fields = ["project", "domain", "resource"]

    def get_queryset(self):
        return selectors.quotas_for(self.principal)

    @extend_schema(request=s.LimitSerializer, responses={200: s.QuotaSerializer})
    def partial_update(self, request, pk=None):
        row = self.get_object()
        limit = self.validated(s.LimitSerializer)["limit"]
        scope = row.project or row.domain
        services.set_limit(self.actor, scope, row.resource, limit)
        return Response(s.QuotaSerializer(self.get_queryset().get(pk=row.pk)).data)


class DefaultQuotaViewSet(mixins.ListModelMixin, ServiceViewSet):
    serializer_class = s.DefaultQuotaSerializer
    lookup_field = "resource"
    lookup_value_regex = "[a-z0-9_]+"
    pagination_class = None
    queryset = DefaultQuota.objects.none()

    def get_queryset(self):
        return selectors.default_quotas()

    def list(self, request):
        return Response(s.DefaultQuotaSerializer(self.get_queryset(), many=True).data)

    @extend_schema(request=s.LimitSerializer, responses={200: s.DefaultQuotaSerializer})
    def partial_update(self, request, resource=None):
        if resource not in resources.resource_types():
            raise NotFound("No such resource.")
        limit = self.validated(s.LimitSerializer)["limit"]
        services.set_default_limit(self.actor, resource, limit)
        return Response({"resource": resource, "limit": limit})
