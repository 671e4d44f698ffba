"""The cloud admins' networks endpoints: VLAN pools, public pools, each host's network config and state."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.scoping import get_or_404
from apps.infrastructure.selectors import hosts_for

from .. import selectors
from ..audit import audited_hosts, run_network_audit
from ..host_state import desired_state
from ..services import host_networks, pools
from . import admin_serializers as s
from .base import NetworksViewSet
from .views import _grantees


class VlanPoolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, NetworksViewSet):
    serializer_class = s.VlanPoolSerializer
    filterset_fields = ["zone", "physical_network"]

    def get_queryset(self):
        return selectors.vlan_pools_for(self.principal)

    def create(self, request):
        data = dict(self.validated())
        pool = pools.create_vlan_pool(self.actor, zone=self.zone_for(data.pop("zone_id")), **data)
        return Response(self.shown(pool), status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        pools.delete_vlan_pool(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicPoolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, NetworksViewSet):
    serializer_class = s.PublicPoolSerializer
    write_serializer_class = s.PublicPoolCreateSerializer
    filterset_fields = ["name", "zone"]

    def get_queryset(self):
        return selectors.public_pools_for(self.principal).prefetch_related("subnets")

    @extend_schema(responses={201: s.PublicPoolSerializer})
    def create(self, request):
        data = dict(self.validated())
        if "allocation_pools" in data:
            data["allocation_pools"] = [(p["start"], p["end"]) for p in data["allocation_pools"]]
        shared_with = _grantees(data.pop("shared_with")) if "shared_with" in data else None
        network = pools.create_public_pool(
            self.actor, zone=self.zone_for(data.pop("zone_id")), shared_with=shared_with, **data
        )
        return Response(self.shown(self.get_queryset().get(pk=network.pk)), status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        pools.delete_public_pool(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class HostNetworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, NetworksViewSet):
    """Each host's network-node role and physical network mappings, by host id."""

    serializer_class = s.HostNetworkSerializer
    update_serializer_class = s.HostNetworkUpdateSerializer
    filterset_fields = ["zone", "name"]

    def get_queryset(self):
        return (
            hosts_for(self.principal).select_related("network_config").prefetch_related("physical_networks")
        )

    @extend_schema(responses={200: s.HostNetworkSerializer})
    def partial_update(self, request, pk=None):
        host = self.get_object()
        host_networks.set_host_network(self.actor, host, **self.validated(partial=True))
        return Response(self.shown(self.get_queryset().get(pk=host.pk)))

    @extend_schema(request=s.NetworkAuditSerializer, responses={202: s.NetworkAuditStartedSerializer})
    @action(detail=False, methods=["post"])
    def audit(self, request):
        """Every up host (or one) compares its network with its desired state and repairs what is safe;
        the differences join the host audit's findings (`GET /host-audit/?kind=network`)."""
        data = self.validated(s.NetworkAuditSerializer)
        hosts = audited_hosts().filter(pk__in=self.get_queryset().values("pk"))
        if "host_id" in data:
            hosts = hosts.filter(pk=get_or_404(self.get_queryset(), "host", pk=data["host_id"]).pk)
        jobs = run_network_audit(self.actor, hosts, repair=data["repair"])
        body = {"jobs": [{"host_id": job.object_id, "job_id": str(job.pk)} for job in jobs]}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"], url_path="desired-state")
    def desired_state(self, request, pk=None):
        """The network state the host should have, as its agent gets it."""
        return Response(desired_state(self.get_object()).to_dict())
