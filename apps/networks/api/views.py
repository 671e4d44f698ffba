"""Networks API for tenants and admins: networks, subnets, ports, floating IPs, routers, security groups."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.errors import ValidationFailed
from apps.identity.models import Domain, Project

from .. import selectors
from ..services import floating_ips, networks, ports, routers, security_groups, subnets
from . import serializers as s
from .base import NetworksViewSet


def _created(data):
    return Response(data, status=status.HTTP_201_CREATED)


def _deleted():
    return Response(status=status.HTTP_204_NO_CONTENT)


def _grantees(shared_with):
    """The domains and projects a shared network is shared with; 400 when one does not exist."""
    domain_ids = set(shared_with.get("domain_ids", ()))
    project_ids = set(shared_with.get("project_ids", ()))
    found = [*Domain.objects.filter(pk__in=domain_ids), *Project.objects.filter(pk__in=project_ids)]
    if len(found) != len(domain_ids) + len(project_ids):
        raise ValidationFailed(
            "Some domains or projects to share with do not exist.", code="grantee_not_found"
        )
    return found


class _Readable(mixins.ListModelMixin, mixins.RetrieveModelMixin, NetworksViewSet):
    pass


class NetworkViewSet(_Readable):
    serializer_class = s.NetworkSerializer
    write_serializer_class = s.NetworkCreateSerializer
    update_serializer_class = s.NetworkUpdateSerializer
    filterset_fields = ["name", "project", "zone", "network_type", "external"]

    def get_queryset(self):
        return selectors.networks_for(self.principal).prefetch_related("subnets", "access")

    @extend_schema(responses={201: s.NetworkSerializer})
    def create(self, request):
        data = dict(self.validated())
        shared, project_id = data.pop("shared"), data.pop("project_id", None)
        project = None if shared else self.project_for(project_id)
        shared_with = _grantees(data.pop("shared_with", {}))
        network = networks.create_network(
            self.actor,
            project=project,
            zone=self.zone_for(data.pop("zone_id")),
            shared_with=shared_with,
            **data,
        )
        return _created(self.shown(network))

    @extend_schema(responses={200: s.NetworkSerializer})
    def partial_update(self, request, pk=None):
        data = dict(self.validated(partial=True))
        if "shared_with" in data:
            data["shared_with"] = _grantees(data["shared_with"])
        network = networks.update_network(self.actor, self.get_object(), **data)
        return Response(self.shown(network))

    def destroy(self, request, pk=None):
        networks.delete_network(self.actor, self.get_object())
        return _deleted()


class SubnetViewSet(_Readable):
    serializer_class = s.SubnetSerializer
    write_serializer_class = s.SubnetCreateSerializer
    update_serializer_class = s.SubnetUpdateSerializer
    filterset_fields = ["name", "network", "ip_version"]

    def get_queryset(self):
        return selectors.subnets_for(self.principal)

    @extend_schema(responses={201: s.SubnetSerializer})
    def create(self, request):
        data = dict(self.validated())
        network = selectors.networks_for(self.principal).filter(pk=data.pop("network_id")).first()
        if network is None:
            raise ValidationFailed("No such network.", code="network_not_found")
        if "gateway_ip" not in data:
            data["gateway_ip"] = subnets.DEFAULT_GATEWAY
        if "allocation_pools" in data:
            data["allocation_pools"] = [(p["start"], p["end"]) for p in data["allocation_pools"]]
        subnet = subnets.create_subnet(self.actor, network, **data)
        return _created(self.shown(subnet))

    @extend_schema(responses={200: s.SubnetSerializer})
    def partial_update(self, request, pk=None):
        subnet = subnets.update_subnet(self.actor, self.get_object(), **self.validated(partial=True))
        return Response(self.shown(subnet))

    def destroy(self, request, pk=None):
        subnets.delete_subnet(self.actor, self.get_object())
        return _deleted()


class PortViewSet(_Readable):
    serializer_class = s.PortSerializer
    write_serializer_class = s.PortCreateSerializer
    update_serializer_class = s.PortUpdateSerializer
    filterset_fields = ["name", "network", "project", "device_owner", "instance_id"]

    def get_queryset(self):
        return selectors.ports_for(self.principal)

    @extend_schema(responses={201: s.PortSerializer})
    def create(self, request):
        data = dict(self.validated())
        project = self.project_for(data.pop("project_id", None))
        port = ports.create_port(self.actor, project, **data)
        return _created(self.shown(port))

    @extend_schema(responses={200: s.PortSerializer})
    def partial_update(self, request, pk=None):
        port = ports.update_port(self.actor, self.get_object(), **self.validated(partial=True))
        return Response(self.shown(self.get_queryset().get(pk=port.pk)))

    def destroy(self, request, pk=None):
        ports.delete_port(self.actor, self.get_object())
        return _deleted()


class FloatingIPViewSet(_Readable):
    serializer_class = s.FloatingIPSerializer
    write_serializer_class = s.FloatingIPCreateSerializer
    filterset_fields = ["project", "network", "fixed_port", "router"]

    def get_queryset(self):
        return selectors.floating_ips_for(self.principal)

    @extend_schema(responses={201: s.FloatingIPSerializer})
    def create(self, request):
        data = self.validated()
        project = self.project_for(data.get("project_id"))
        floating = floating_ips.allocate_floating_ip(self.actor, project, network_id=data["network_id"])
        return _created(self.shown(floating))

    def destroy(self, request, pk=None):
        floating_ips.release_floating_ip(self.actor, self.get_object())
        return _deleted()

    @extend_schema(request=s.AssociateSerializer, responses={200: s.FloatingIPSerializer})
    @action(detail=True, methods=["post"])
    def associate(self, request, pk=None):
        """Associate with a port's fixed IP, or move there from where it is."""
        data = self.validated(s.AssociateSerializer)
        floating = floating_ips.associate(self.actor, self.get_object(), **data)
        return Response(self.shown(floating))

    @extend_schema(request=None, responses={200: s.FloatingIPSerializer})
    @action(detail=True, methods=["post"])
    def disassociate(self, request, pk=None):
        return Response(self.shown(floating_ips.disassociate(self.actor, self.get_object())))


class RouterViewSet(_Readable):
    serializer_class = s.RouterSerializer
    write_serializer_class = s.RouterCreateSerializer
    update_serializer_class = s.RouterUpdateSerializer
    filterset_fields = ["name", "project", "zone"]

    def get_queryset(self):
        return selectors.routers_for(self.principal).prefetch_related(
            "gateway_port__addresses", "ports__addresses"
        )

    def _router(self, router):
        return Response(self.shown(self.get_queryset().get(pk=router.pk)))

    @extend_schema(responses={201: s.RouterSerializer})
    def create(self, request):
        data = dict(self.validated())
        project = self.project_for(data.pop("project_id", None))
        router = routers.create_router(self.actor, project, zone=self.zone_for(data.pop("zone_id")), **data)
        return _created(self.shown(self.get_queryset().get(pk=router.pk)))

    @extend_schema(responses={200: s.RouterSerializer})
    def partial_update(self, request, pk=None):
        router = routers.rename_router(self.actor, self.get_object(), **self.validated(partial=True))
        return self._router(router)

    def destroy(self, request, pk=None):
        routers.delete_router(self.actor, self.get_object())
        return _deleted()

    @extend_schema(request=s.InterfaceSerializer, responses={200: s.RouterSerializer})
    @action(detail=True, methods=["post"], url_path="add-interface")
    def add_interface(self, request, pk=None):
        router = self.get_object()
        routers.add_interface(self.actor, router, **self.validated(s.InterfaceSerializer))
        return self._router(router)

    @extend_schema(request=s.InterfaceSerializer, responses={200: s.RouterSerializer})
    @action(detail=True, methods=["post"], url_path="remove-interface")
    def remove_interface(self, request, pk=None):
        router = self.get_object()
        routers.remove_interface(self.actor, router, **self.validated(s.InterfaceSerializer))
        return self._router(router)

    @extend_schema(request=s.GatewaySerializer, responses={200: s.RouterSerializer})
    @action(detail=True, methods=["post"], url_path="set-gateway")
    def set_gateway(self, request, pk=None):
        """Put the gateway on a public pool (external_network_id), or take it off (null)."""
        router = self.get_object()
        routers.set_gateway(self.actor, router, **self.validated(s.GatewaySerializer))
        return self._router(router)


class SecurityGroupViewSet(_Readable):
    serializer_class = s.SecurityGroupSerializer
    write_serializer_class = s.SecurityGroupCreateSerializer
    update_serializer_class = s.SecurityGroupUpdateSerializer
    filterset_fields = ["name", "project", "is_default"]

    def get_queryset(self):
        return selectors.security_groups_for(self.principal)

    def list(self, request, *args, **kwargs):
        """A project's default group exists before anything needed it: listing makes it if missing."""
        if self.principal.scope_project is not None:
            security_groups.ensure_default_group(self.principal.scope_project)
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: s.SecurityGroupSerializer})
    def create(self, request):
        data = dict(self.validated())
        project = self.project_for(data.pop("project_id", None))
        group = security_groups.create_security_group(self.actor, project, **data)
        return _created(self.shown(group))

    @extend_schema(responses={200: s.SecurityGroupSerializer})
    def partial_update(self, request, pk=None):
        group = security_groups.update_security_group(
            self.actor, self.get_object(), **self.validated(partial=True)
        )
        return Response(self.shown(group))

    def destroy(self, request, pk=None):
        security_groups.delete_security_group(self.actor, self.get_object())
        return _deleted()


class SecurityGroupRuleViewSet(_Readable):
    serializer_class = s.SecurityGroupRuleSerializer
    filterset_fields = ["security_group", "direction", "ethertype", "protocol", "remote_group"]

    def get_queryset(self):
        return selectors.security_group_rules_for(self.principal)

    @extend_schema(responses={201: s.SecurityGroupRuleSerializer})
    def create(self, request):
        data = dict(self.validated())
        group = selectors.security_groups_for(self.principal).filter(pk=data.pop("security_group_id")).first()
        if group is None:
            raise ValidationFailed("No such security group.", code="security_group_not_found")
        rule = security_groups.create_rule(self.actor, group, **data)
        return _created(self.shown(rule))

    def destroy(self, request, pk=None):
        security_groups.delete_rule(self.actor, self.get_object())
        return _deleted()
