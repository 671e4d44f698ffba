"""What a host may ask and tell about networks at the agent endpoint, hostile hosts included.

A host reads its own network state and its own instances' metadata (user data
and keys travel only this way), and writes only its own network report; an
unsigned request, another host's instance and a replayed request get nothing.
"""

import base64
import time

import pytest

from agent import protocol, signing
from agent.network_protocol import DriftItem, NetworkReport, ObservedNetworkState
from apps.compute import states
from apps.compute.models import Migration
from apps.compute.services.keypairs import create_keypair
from apps.infrastructure.models import Host, HostAuditFinding
from apps.infrastructure.tests.agents import SignedAgent
from apps.networks.models import HostNetworkConfig
from apps.networks.services.instance_ports import expect_ports, forget_arrival
from apps.networks.tests.factories import SYSTEM, flat_network, network_node, nics_for

from .factories import InstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hosts(root, zone):
    first, second = SignedAgent.enrolled("host-1", zone), SignedAgent.enrolled("host-2", zone)
    return first, second


def instance_on(agent, project, **fields):
    host = Host.objects.get(name=agent.name)
    return InstanceFactory(project=project, host=host, zone=host.zone, **fields)


def metadata_path(instance):
    return protocol.instance_metadata_path(str(instance.pk))


def test_a_host_reads_its_own_instances_metadata_with_user_data_and_keys_and_nothing_of_another_host(
    hosts, project
):
    first, second = hosts
    keypair, _ = create_keypair(SYSTEM, project, name="ops")
    mine = instance_on(first, project, name="web-1", user_data=b"#!/bin/sh\necho hi\n", keypair=keypair)
    mine.ssh_public_key = keypair.public_key
    mine.save(update_fields=["ssh_public_key"])
    theirs = instance_on(second, project, name="db-1", user_data=b"secret of host 2")

    answer = first.get(metadata_path(mine))

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["instance_id"], body["hostname"]) == (str(mine.pk), "web-1")
    assert base64.b64decode(body["user_data_b64"]) == b"#!/bin/sh\necho hi\n"
    assert body["public_keys"] == [{"name": "ops", "key": keypair.public_key.strip()}]
    refused = first.get(metadata_path(theirs))
    unknown = first.get(protocol.instance_metadata_path("00000000-0000-4000-8000-000000000000"))
    assert (refused.status_code, refused.json()) == (unknown.status_code, unknown.json())
    assert refused.status_code == 404
    assert b"secret" not in refused.content
    assert SignedAgent("host-1").client.get(metadata_path(mine)).status_code == 401


def test_a_replayed_metadata_request_is_refused(hosts, project):
    first, _ = hosts
    instance = instance_on(first, project, user_data=b"once")
    headers = signing.sign_request(first.key, host=first.name, method="GET", path=metadata_path(instance))

    assert first.client.get(metadata_path(instance), headers=headers).status_code == 200
    replayed = first.client.get(metadata_path(instance), headers=headers)

    assert replayed.status_code == 401
    assert b"once" not in replayed.content


def test_a_host_reads_its_own_network_state_only(hosts, project, zone):
    first, second = hosts
    network_node(zone, name="node-1")
    network = flat_network(zone, shared_with=[project], network_type="flat_dhcp")
    instance = instance_on(first, project)
    [port] = nics_for(project, [{"network_id": network.pk}], instance, Host.objects.get(name=first.name))

    mine = first.get(protocol.NETWORK_STATE_PATH).json()
    theirs = second.get(protocol.NETWORK_STATE_PATH).json()

    assert (mine["host"], [p["port_id"] for p in mine["ports"]]) == (first.name, [str(port.pk)])
    assert (theirs["host"], theirs["ports"], theirs["networks"]) == (second.name, [], [])


def report(host, drift, complete=True):
    return NetworkReport(
        protocol_version=protocol.PROTOCOL_VERSION,
        host=host,
        sent_at=int(time.time()),
        generation=7,
        observed=ObservedNetworkState(namespaces=["cm-dhcp-x"]),
        drift=drift,
        complete=complete,
    )


def test_a_hosts_network_report_is_kept_and_its_drift_joins_the_findings_of_that_host_only(hosts):
    first, second = hosts
    missing = DriftItem(kind="bridge", name="cmb-0123456789a", problem="missing", repaired=False)
    restarted = DriftItem(kind="dhcp_server", name="net-1", problem="missing", repaired=True)

    assert (
        first.post(protocol.NETWORK_REPORT_PATH, report(first.name, [missing, restarted])).status_code == 200
    )
    forged = second.post(protocol.NETWORK_REPORT_PATH, report(first.name, []))

    assert forged.status_code == 403
    config = HostNetworkConfig.objects.get(host__name=first.name)
    assert (config.observed["namespaces"], config.observed_generation) == (["cm-dhcp-x"], 7)
    findings = HostAuditFinding.objects.filter(kind="network", host__name=first.name)
    assert {(f.subject, f.resolved_at is None) for f in findings} == {
        ("bridge:cmb-0123456789a", True),
        ("dhcp_server:net-1", False),
    }
    first.post(protocol.NETWORK_REPORT_PATH, report(first.name, [], complete=False))
    assert findings.filter(resolved_at=None).count() == 1, "a partial report resolves nothing"
    first.post(protocol.NETWORK_REPORT_PATH, report(first.name, []))
    assert findings.filter(resolved_at=None).count() == 0


def test_only_the_destination_the_controller_chose_learns_a_moving_instances_port_and_metadata(
    hosts, project, zone
):
    """A host cannot claim another host's port: it is in a host's state, and its metadata answered there,
    only when the controller recorded the move to that host, and only while the move is in flight."""
    first, second = hosts
    bystander = SignedAgent.enrolled("host-3", zone)
    network_node(zone, name="node-1")
    network = flat_network(zone, shared_with=[project], network_type="flat_dhcp")
    instance = instance_on(first, project, user_data=b"only where it runs")
    source, destination = Host.objects.get(name=first.name), Host.objects.get(name=second.name)
    [port] = nics_for(project, [{"network_id": network.pk}], instance, source)

    def ports_seen(agent):
        return [p["port_id"] for p in agent.get(protocol.NETWORK_STATE_PATH).json()["ports"]]

    assert ports_seen(second) == []
    assert second.get(metadata_path(instance)).status_code == 404
    migration = Migration.objects.create(
        instance=instance,
        kind=Migration.COLD,
        source=source,
        destination=destination,
        old_offering=instance.offering,
        new_offering=instance.offering,
        vm_state_before=states.ACTIVE,
    )
    expect_ports(instance.pk, destination)

    assert ports_seen(first) == ports_seen(second) == [str(port.pk)]
    assert ports_seen(bystander) == []
    assert second.get(metadata_path(instance)).status_code == 200
    assert bystander.get(metadata_path(instance)).status_code == 404
    Migration.objects.filter(pk=migration.pk).update(status=states.FAILED)
    forget_arrival(instance.pk, destination)
    assert ports_seen(second) == []
    assert second.get(metadata_path(instance)).status_code == 404
    assert ports_seen(first) == [str(port.pk)]
