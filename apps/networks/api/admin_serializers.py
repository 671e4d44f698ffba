"""Serializers of the cloud admins' networks endpoints: VLAN pools, public pools, hosts' network config."""

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer
from apps.infrastructure.models import Host

from ..models import Network, SubnetAddress, VlanPool
from ..models.networks import NAME_LENGTH
from .serializers import AllocationPoolSerializer, SharedWithSerializer


class VlanPoolSerializer(ModelSerializer):
    zone_id = serializers.UUIDField()
    vlans_used = serializers.SerializerMethodField()

    class Meta:
        model = VlanPool
        fields = ["id", "zone_id", "physical_network", "vlan_min", "vlan_max", "vlans_used", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            "vlan_min": {"min_value": 1, "max_value": 4094},
            "vlan_max": {"min_value": 1, "max_value": 4094},
        }

    def get_vlans_used(self, pool) -> int:
        return pool.vlans_used()


class PublicPoolSerializer(ModelSerializer):
    zone_id = serializers.UUIDField(read_only=True)
    subnets = serializers.SerializerMethodField()
    addresses_total = serializers.SerializerMethodField()
    addresses_used = serializers.SerializerMethodField()

    class Meta:
        model = Network
        fields = [
            "id",
            "name",
            "zone_id",
            "network_type",
            "physical_network",
            "vlan_id",
            "subnets",
            "addresses_total",
            "addresses_used",
            "created_at",
        ]

    def get_subnets(self, network) -> list[dict]:
        return [
            {
                "id": str(s.pk),
                "cidr": s.cidr,
                "gateway_ip": s.gateway_ip,
                "allocation_pools": [{"start": a, "end": b} for a, b in s.allocation_pools],
            }
            for s in network.subnets.all()
        ]

    def _addresses(self, network):
        return SubnetAddress.objects.filter(subnet__network=network, in_pool=True)

    def get_addresses_total(self, network) -> int:
        return self._addresses(network).count()

    def get_addresses_used(self, network) -> int:
        return self._addresses(network).filter(port__isnull=False).count()


class PublicPoolCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH)
    zone_id = serializers.UUIDField()
    network_type = serializers.ChoiceField(
        choices=[t for t, _ in Network.TYPES], default=Network.FLAT, help_text="flat or vlan"
    )
    physical_network = serializers.CharField(max_length=NAME_LENGTH)
    vlan_id = serializers.IntegerField(required=False, min_value=1, max_value=4094)
    cidr = serializers.CharField(max_length=64)
    gateway_ip = serializers.IPAddressField()
    allocation_pools = AllocationPoolSerializer(many=True, required=False, max_length=64)
    shared_with = SharedWithSerializer(required=False, help_text="Absent: every domain.")


class HostNetworkSerializer(ModelSerializer):
    """A host's network role and mappings, and what its agent last reported of its network."""

    host_id = serializers.UUIDField(source="pk", read_only=True)
    host_name = serializers.CharField(source="name", read_only=True)
    zone_id = serializers.UUIDField(read_only=True)
    network_node = serializers.SerializerMethodField()
    physical_networks = serializers.SerializerMethodField()
    routers = serializers.SerializerMethodField()
    dhcp_networks = serializers.SerializerMethodField()
    observed_at = serializers.SerializerMethodField()
    observed_generation = serializers.SerializerMethodField()
    observed = serializers.SerializerMethodField()

    class Meta:
        model = Host
        fields = [
            "host_id",
            "host_name",
            "zone_id",
            "network_node",
            "physical_networks",
            "routers",
            "dhcp_networks",
            "observed_at",
            "observed_generation",
            "observed",
        ]

    @staticmethod
    def _config(host):
        return getattr(host, "network_config", None)

    def get_network_node(self, host) -> bool:
        config = self._config(host)
        return bool(config and config.network_node)

    def get_physical_networks(self, host) -> dict:
        return {m.physical_network: m.interface for m in host.physical_networks.all()}

    def get_routers(self, host) -> int:
        return host.routers.count()

    def get_dhcp_networks(self, host) -> int:
        return host.dhcp_networks.count()

    def get_observed_at(self, host) -> str | None:
        config = self._config(host)
        return config.observed_at.isoformat() if config and config.observed_at else None

    def get_observed_generation(self, host) -> int | None:
        config = self._config(host)
        return config.observed_generation if config else None

    def get_observed(self, host) -> dict | None:
        """The devices, namespaces, DHCP servers, tables and routers the agent saw (its last report)."""
        config = self._config(host)
        return config.observed if config else None


class HostNetworkUpdateSerializer(serializers.Serializer):
    network_node = serializers.BooleanField(required=False)
    physical_networks = serializers.DictField(
        child=serializers.CharField(max_length=15), required=False, help_text="{physical network: interface}"
    )


class NetworkAuditSerializer(serializers.Serializer):
    host_id = serializers.UUIDField(required=False, help_text="only this host; every up host when absent")
    repair = serializers.BooleanField(default=True, help_text="repair what is safe to repair")


class AuditJobSerializer(serializers.Serializer):
    host_id = serializers.UUIDField()
    job_id = serializers.UUIDField()


class NetworkAuditStartedSerializer(serializers.Serializer):
    jobs = AuditJobSerializer(many=True)
