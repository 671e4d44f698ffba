"""Zones and hosts API: cloud admins manage them; readers see them as the policy allows."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.views import ServiceViewSet
from apps.core.scoping import get_or_404

from .. import selectors
from ..services import hosts, zones
from . import serializers as s


class ZoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.ZoneSerializer
    update_serializer_class = s.ZoneUpdateSerializer
    filterset_fields = ["name", "enabled"]

    def get_queryset(self):
        return selectors.zones_for(self.principal)

    def create(self, request):
        zone = zones.create_zone(self.actor, **self.validated())
        return Response(s.ZoneSerializer(zone).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        zone = zones.update_zone(self.actor, self.get_object(), **self.validated(partial=True))
        return Response(s.ZoneSerializer(zone).data)

    def destroy(self, request, pk=None):
        zones.delete_zone(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class HostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.HostSerializer
    update_serializer_class = s.HostUpdateSerializer
    filterset_fields = ["name", "state", "enabled", "maintenance", "isolated", "zone"]

    def get_queryset(self):
        return selectors.hosts_for(self.principal)

    @extend_schema(responses={201: s.HostCreatedSerializer})
    def create(self, request):
        data = dict(self.validated())
        zone = get_or_404(selectors.zones_for(self.principal), "zone", pk=data.pop("zone_id"))
        host, token = hosts.add_host(self.actor, zone=zone, **data)
        host.enrollment_token = token
        return Response(s.HostCreatedSerializer(host).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        host = hosts.update_host(self.actor, self.get_object(), **self.validated(partial=True))
        return Response(s.HostSerializer(host).data)

    def destroy(self, request, pk=None):
        hosts.delete_host(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={201: s.EnrollmentTokenSerializer})
    @action(detail=True, methods=["post"], url_path="enrollment-token")
    def enrollment_token(self, request, pk=None):
        token = hosts.issue_enrollment_token(self.actor, self.get_object())
        return Response({"enrollment_token": token}, status=status.HTTP_201_CREATED)
