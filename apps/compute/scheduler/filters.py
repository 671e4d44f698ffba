"""The built-in filters. Each is cheap enough to be an SQL condition; none needs a Python check."""

import ipaddress

from django.db.models import Q

from apps.infrastructure import capacity
from apps.infrastructure.models import Zone
from apps.networks.models import HostPhysicalNetwork

from .base import Filter


class ComputeFilter(Filter):
    """Only hosts that are up, enabled, not in maintenance, in an enabled zone."""

    name = "compute"

    def condition(self, request):
        return capacity.schedulable() & Q(zone_id__in=Zone.objects.filter(enabled=True).values("id"))


class AvailabilityZoneFilter(Filter):
    name = "availability_zone"

    def wanted(self, request):
        return request.zone_id is not None

    def condition(self, request):
        return Q(zone_id=request.zone_id)


class HostTagsFilter(Filter):
    """The offering's host tags must all be on the host."""

    name = "host_tags"

    def wanted(self, request):
        return bool(request.host_tags)

    def condition(self, request):
        return Q(tags__contains=list(request.host_tags))


class RamFilter(Filter):
    """Free RAM: (ram_mb - reserved_host_memory_mb) * ram ratio - ram_mb_used."""

    name = "ram"

    def condition(self, request):
        return capacity.ram_fits(request.amounts.ram_mb)


class CoreFilter(Filter):
    """Free vCPUs: cpus * cpu ratio - vcpus_used."""

    name = "cores"

    def condition(self, request):
        return capacity.vcpus_fit(request.amounts.vcpus)


class DiskFilter(Filter):
    """Free disk: (disk_gb - reserved_host_disk_mb) * disk ratio - disk_gb_used."""

    name = "disk"

    def condition(self, request):
        return capacity.disk_fits(request.amounts.disk_gb)


# libvirt runs KVM guests through its QEMU driver, so a host reporting "qemu" serves "kvm" images.
HYPERVISOR_TYPES_SERVING = {"kvm": ("kvm", "qemu")}


class ImagePropertiesFilter(Filter):
    """The image's architecture and hypervisor type, when it names them, must be the host's."""

    name = "image_properties"

    def wanted(self, request):
        return bool(request.image.architecture or request.image.hypervisor_type)

    def condition(self, request):
        condition = Q()
        if request.image.architecture:
            condition &= Q(arch=request.image.architecture)
        wanted_type = request.image.hypervisor_type.lower()
        if wanted_type:
            serving = Q()
            for hypervisor_type in HYPERVISOR_TYPES_SERVING.get(wanted_type, (wanted_type,)):
                serving |= Q(hypervisor_type__iexact=hypervisor_type)
            condition &= serving
        return condition


class IsolatedHostsFilter(Filter):
    """Isolated images run only on isolated hosts, and isolated hosts run only isolated images."""

    name = "isolated_hosts"

    def condition(self, request):
        return Q(isolated=request.image.isolated)


class DifferentHostFilter(Filter):
    """Scheduler hint different_host: none of the hosts of the named instances."""

    name = "different_host"

    def wanted(self, request):
        return bool(request.different_host)

    def condition(self, request):
        return ~Q(id__in=request.different_host)


class SameHostFilter(Filter):
    """Scheduler hint same_host: one of the hosts of the named instances."""

    name = "same_host"

    def wanted(self, request):
        return bool(request.same_host)

    def condition(self, request):
        return Q(id__in=request.same_host)


class CidrAffinityFilter(Filter):
    """Scheduler hints build_near_host_ip + cidr: the host's management address is in that network."""

    name = "cidr_affinity"

    def wanted(self, request):
        return request.near_network is not None

    def condition(self, request):
        return Q(management_ip__inet_within=str(ipaddress.ip_network(request.near_network, strict=False)))


class AffinityFilter(Filter):
    """An affinity group's next member goes where its members are (anywhere for the first)."""

    name = "affinity"

    def wanted(self, request):
        return request.group_policy == "affinity" and bool(request.group_hosts)

    def condition(self, request):
        return Q(id__in=request.group_hosts)


class AntiAffinityFilter(Filter):
    """An anti-affinity group's members each get a host none of the others is on."""

    name = "anti_affinity"

    def wanted(self, request):
        return request.group_policy == "anti-affinity" and bool(request.group_hosts)

    def condition(self, request):
        return ~Q(id__in=request.group_hosts)


class PhysicalNetworksFilter(Filter):
    """The host carries every physical network of the instance's NICs (networks' per-host mappings)."""

    name = "physical_networks"

    def wanted(self, request):
        return bool(request.physical_networks)

    def condition(self, request):
        condition = Q()
        for physical_network in sorted(request.physical_networks):
            mapped = HostPhysicalNetwork.objects.filter(physical_network=physical_network)
            condition &= Q(id__in=mapped.values("host_id"))
        return condition


FILTERS = (
    ComputeFilter,
    AvailabilityZoneFilter,
    HostTagsFilter,
    RamFilter,
    CoreFilter,
    DiskFilter,
    ImagePropertiesFilter,
    IsolatedHostsFilter,
    DifferentHostFilter,
    SameHostFilter,
    CidrAffinityFilter,
    AffinityFilter,
    AntiAffinityFilter,
    PhysicalNetworksFilter,
)
