"""An instance's NICs as compute will ask for them: made or attached in its create, let go with its delete."""

import pytest

from apps.core.errors import ValidationFailed
from apps.identity.tests.factories import ProjectFactory
from apps.infrastructure.tests.factories import HostFactory, ZoneFactory
from apps.networks.models import Port, SubnetAddress
from apps.networks.services import ports
from apps.networks.services.instance_ports import detach_port, rebind_ports, release_ports
from apps.quotas import services as quotas

from .factories import SYSTEM, flat_network, nics_for, project_network
from .test_host_state import Instance


@pytest.fixture
def network(zone, project):
    return flat_network(zone, cidr="10.70.0.0/24", shared_with=[project])


def test_a_nic_per_request_made_or_attached_and_bound_to_the_host(network, project, zone):
    spare = ports.create_port(SYSTEM, project, network_id=network.pk, name="spare")
    host = HostFactory(zone=zone)
    instance = Instance("app-1")
    made, attached = nics_for(
        project,
        [{"network_id": network.pk, "fixed_ips": [{"ip_address": "10.70.0.50"}]}, {"port_id": spare.pk}],
        instance,
        host=host,
    )
    assert [f["ip_address"] for f in made.fixed_ips] == ["10.70.0.50"]
    assert attached.pk == spare.pk
    assert attached.fixed_ips == spare.fixed_ips
    for port in Port.objects.filter(instance_id=instance.pk):
        assert (port.device_owner, port.host, port.hostname) == ("compute", host, "app-1")
    assert quotas.usage_of(project)["ports"][1] == 2


def test_releasing_deletes_the_ports_made_and_keeps_the_ones_attached(network, project):
    spare = ports.create_port(SYSTEM, project, network_id=network.pk)
    instance = Instance("app-2")
    made, _ = nics_for(project, [{"network_id": network.pk}, {"port_id": spare.pk}], instance)
    release_ports(instance.pk)
    assert not Port.objects.filter(pk=made.pk).exists()
    kept = Port.objects.get(pk=spare.pk)
    assert (kept.device_owner, kept.instance_id, kept.host) == ("", None, None)
    assert SubnetAddress.objects.get(address=made.fixed_ips[0]["ip_address"]).port_id is None
    assert quotas.usage_of(project)["ports"][1] == 1


def test_a_port_in_use_another_projects_port_or_a_network_of_another_zone_is_refused(
    network, project, zone, node, pool
):
    spare = ports.create_port(SYSTEM, project, network_id=network.pk)
    nics_for(project, [{"port_id": spare.pk}], Instance("first"))
    other = ProjectFactory()
    theirs = ports.create_port(SYSTEM, other, network_id=project_network(other, zone).pk)
    elsewhere = HostFactory(zone=ZoneFactory(name="zone-b"))
    for request, host, code in [
        ({"port_id": spare.pk}, None, "port_in_use"),
        ({"port_id": theirs.pk}, None, "port_not_found"),
        ({"network_id": network.pk}, elsewhere, "network_not_in_zone"),
        ({"network_id": network.pk, "port_id": spare.pk}, None, "bad_nic_request"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            nics_for(project, [request], Instance("second"), host=host)
        assert refused.value.code == code


def test_ports_move_with_their_instance_and_one_is_detached(network, project, zone):
    instance = Instance("app-3")
    first, second = nics_for(project, [{"network_id": network.pk}] * 2, instance)
    host = HostFactory(zone=zone)
    assert host.pk in rebind_ports(instance.pk, host)
    detach_port(instance.pk, second.pk)
    assert list(Port.objects.filter(instance_id=instance.pk, host=host)) == [Port.objects.get(pk=first.pk)]
    with pytest.raises(ValidationFailed):
        detach_port(instance.pk, second.pk)
