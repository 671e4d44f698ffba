"""Serializers of the networks API: shapes and field checks; the rules live in the services.

Facts about the physical cloud (physical networks, VLAN ids, the hosts a port
or router is placed on, who a shared network is shared with) are shown to
those who may read the networks infrastructure, not to tenants: the view
puts `infrastructure` in the serializer context.
"""

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer

from ..models import FloatingIP, Network, Port, Router, SecurityGroup, SecurityGroupRule, Subnet
from ..models.networks import MTU_MAX, MTU_MIN, NAME_LENGTH
from ..models.security import MATCH_FIELDS

INFRASTRUCTURE_ONLY = {
    Network: ("physical_network", "vlan_id", "dhcp_host_id", "shared_with"),
    Port: ("host_id",),
    Router: ("host_id",),
}


class _HidesInfrastructure:
    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("infrastructure"):
            for field in INFRASTRUCTURE_ONLY.get(type(instance), ()):
                data.pop(field, None)
        return data


class SharedWithSerializer(serializers.Serializer):
    domain_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=100)
    project_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=100)


class NetworkSerializer(_HidesInfrastructure, ModelSerializer):
    project_id = serializers.UUIDField(read_only=True, allow_null=True)
    zone_id = serializers.UUIDField(read_only=True)
    dhcp_host_id = serializers.UUIDField(read_only=True, allow_null=True)
    shared = serializers.BooleanField(read_only=True)
    subnet_ids = serializers.SerializerMethodField()
    shared_with = serializers.SerializerMethodField()

    class Meta:
        model = Network
        fields = [
            "id",
            "name",
            "description",
            "project_id",
            "zone_id",
            "network_type",
            "physical_network",
            "vlan_id",
            "mtu",
            "external",
            "shared",
            "dhcp_host_id",
            "subnet_ids",
            "shared_with",
            "created_at",
        ]

    def get_subnet_ids(self, network) -> list[str]:
        return [str(s.pk) for s in network.subnets.all()]

    def get_shared_with(self, network) -> dict:
        rows = list(network.access.all())
        return {
            "domain_ids": [str(a.domain_id) for a in rows if a.domain_id],
            "project_ids": [str(a.project_id) for a in rows if a.project_id],
        }


class NetworkCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH)
    description = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    project_id = serializers.UUIDField(required=False)
    shared = serializers.BooleanField(default=False, help_text="A cloud admin's network of no project.")
    zone_id = serializers.UUIDField()
    network_type = serializers.ChoiceField(choices=[t for t, _ in Network.TYPES], default=Network.VLAN)
    physical_network = serializers.CharField(max_length=NAME_LENGTH, required=False)
    vlan_id = serializers.IntegerField(required=False, min_value=1, max_value=4094)
    mtu = serializers.IntegerField(required=False, default=1500, min_value=MTU_MIN, max_value=MTU_MAX)
    external = serializers.BooleanField(default=False)
    shared_with = SharedWithSerializer(required=False)


class NetworkUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH, required=False)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    shared_with = SharedWithSerializer(required=False)


class AllocationPoolSerializer(serializers.Serializer):
    start = serializers.IPAddressField()
    end = serializers.IPAddressField()


class SubnetSerializer(ModelSerializer):
    network_id = serializers.UUIDField(read_only=True)
    project_id = serializers.SerializerMethodField()
    cidr = serializers.CharField(read_only=True)
    allocation_pools = serializers.SerializerMethodField()

    class Meta:
        model = Subnet
        fields = [
            "id",
            "name",
            "network_id",
            "project_id",
            "ip_version",
            "cidr",
            "gateway_ip",
            "dns_nameservers",
            "allocation_pools",
            "reserved_addresses",
            "ipv6_mode",
            "enable_dhcp",
            "created_at",
        ]

    def get_project_id(self, subnet) -> str | None:
        return str(subnet.network.project_id) if subnet.network.project_id else None

    def get_allocation_pools(self, subnet) -> list[dict]:
        return [{"start": first, "end": last} for first, last in subnet.allocation_pools]


class SubnetCreateSerializer(serializers.Serializer):
    network_id = serializers.UUIDField()
    name = serializers.CharField(max_length=NAME_LENGTH, required=False, default="", allow_blank=True)
    cidr = serializers.CharField(max_length=64)
    gateway_ip = serializers.IPAddressField(
        required=False, allow_null=True, help_text="Absent: the first address; null: no gateway."
    )
    dns_nameservers = serializers.ListField(
        child=serializers.IPAddressField(), required=False, default=list, max_length=5
    )
    allocation_pools = AllocationPoolSerializer(many=True, required=False, max_length=64)
    reserved_addresses = serializers.ListField(
        child=serializers.IPAddressField(), required=False, default=list, max_length=1024
    )
    ipv6_mode = serializers.ChoiceField(
        choices=[m for m, _ in Subnet.IPV6_MODES], required=False, allow_null=True
    )
    enable_dhcp = serializers.BooleanField(required=False, allow_null=True)


class SubnetUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH, required=False, allow_blank=True)
    dns_nameservers = serializers.ListField(child=serializers.IPAddressField(), required=False, max_length=5)


class FixedIPSerializer(serializers.Serializer):
    subnet_id = serializers.UUIDField(required=False)
    ip_address = serializers.IPAddressField(required=False)


class PortSerializer(_HidesInfrastructure, ModelSerializer):
    network_id = serializers.UUIDField(read_only=True)
    project_id = serializers.UUIDField(read_only=True, allow_null=True)
    router_id = serializers.UUIDField(read_only=True, allow_null=True)
    host_id = serializers.UUIDField(read_only=True, allow_null=True)
    mac_address = serializers.CharField(read_only=True)
    fixed_ips = serializers.SerializerMethodField()
    security_group_ids = serializers.SerializerMethodField()

    class Meta:
        model = Port
        fields = [
            "id",
            "name",
            "network_id",
            "project_id",
            "mac_address",
            "fixed_ips",
            "security_group_ids",
            "device_owner",
            "instance_id",
            "router_id",
            "host_id",
            "created_at",
        ]

    def get_fixed_ips(self, port) -> list[dict]:
        if hasattr(port, "fixed_ips"):
            return [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]} for f in port.fixed_ips]
        return [{"subnet_id": str(a.subnet_id), "ip_address": a.address} for a in port.addresses.all()]

    def get_security_group_ids(self, port) -> list[str]:
        if hasattr(port, "security_group_ids"):
            return list(port.security_group_ids)
        return [str(g.pk) for g in port.security_groups.all()]


class PortCreateSerializer(serializers.Serializer):
    network_id = serializers.UUIDField()
    project_id = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=NAME_LENGTH, required=False, default="", allow_blank=True)
    fixed_ips = FixedIPSerializer(many=True, required=False, max_length=8)
    security_group_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        allow_null=True,
        max_length=32,
        help_text="Absent or null: the project's default group.",
    )
    mac_address = serializers.CharField(required=False, max_length=17)


class PortUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH, required=False, allow_blank=True)
    security_group_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=32)


class FloatingIPSerializer(ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    network_id = serializers.UUIDField(read_only=True)
    port_id = serializers.UUIDField(source="fixed_port_id", read_only=True, allow_null=True)
    router_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = FloatingIP
        fields = [
            "id",
            "project_id",
            "network_id",
            "floating_ip_address",
            "port_id",
            "fixed_ip_address",
            "router_id",
            "created_at",
        ]


class FloatingIPCreateSerializer(serializers.Serializer):
    network_id = serializers.UUIDField(help_text="The public pool (an external network).")
    project_id = serializers.UUIDField(required=False)


class AssociateSerializer(serializers.Serializer):
    port_id = serializers.UUIDField()
    fixed_ip_address = serializers.IPAddressField(required=False)


class RouterSerializer(_HidesInfrastructure, ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    zone_id = serializers.UUIDField(read_only=True)
    host_id = serializers.UUIDField(read_only=True)
    external_gateway = serializers.SerializerMethodField()
    interfaces = serializers.SerializerMethodField()

    class Meta:
        model = Router
        fields = [
            "id",
            "name",
            "project_id",
            "zone_id",
            "host_id",
            "external_gateway",
            "enable_snat",
            "interfaces",
            "created_at",
        ]

    def get_external_gateway(self, router) -> dict | None:
        port = router.gateway_port
        if port is None:
            return None
        return {"network_id": str(port.network_id), "ip_addresses": [a.address for a in port.addresses.all()]}

    def get_interfaces(self, router) -> list[dict]:
        return [
            {"port_id": str(a.port_id), "subnet_id": str(a.subnet_id), "ip_address": a.address}
            for port in router.ports.all()
            if port.device_owner == Port.ROUTER_INTERFACE
            for a in port.addresses.all()
        ]


class RouterCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH)
    project_id = serializers.UUIDField(required=False)
    zone_id = serializers.UUIDField()
    external_network_id = serializers.UUIDField(required=False, allow_null=True)
    enable_snat = serializers.BooleanField(default=True)


class RouterUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH)


class InterfaceSerializer(serializers.Serializer):
    subnet_id = serializers.UUIDField()


class GatewaySerializer(serializers.Serializer):
    external_network_id = serializers.UUIDField(allow_null=True)
    enable_snat = serializers.BooleanField(required=False)


class SecurityGroupRuleSerializer(ModelSerializer):
    security_group_id = serializers.UUIDField()
    project_id = serializers.UUIDField(read_only=True)
    remote_group_id = serializers.UUIDField(required=False, allow_null=True)
    protocol = serializers.ChoiceField(
        choices=[p for p, _ in SecurityGroupRule.PROTOCOLS], required=False, allow_null=True
    )
    remote_cidr = serializers.CharField(required=False, allow_null=True, max_length=64)
    port_min = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=65535)
    port_max = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=65535)
    icmp_type = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=255)
    icmp_code = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=255)

    class Meta:
        model = SecurityGroupRule
        fields = [
            "id",
            "security_group_id",
            "project_id",
            *MATCH_FIELDS,
            "remote_group_id",
            "description",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"ethertype": {"default": SecurityGroupRule.IPV4}, "description": {"required": False}}


class SecurityGroupSerializer(ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    rules = SecurityGroupRuleSerializer(many=True, read_only=True)

    class Meta:
        model = SecurityGroup
        fields = ["id", "name", "description", "project_id", "is_default", "rules", "created_at"]
        read_only_fields = ["id", "is_default", "created_at"]
        extra_kwargs = {"name": {"validators": []}}


class SecurityGroupCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH)
    description = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    project_id = serializers.UUIDField(required=False)


class SecurityGroupUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH, required=False)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
