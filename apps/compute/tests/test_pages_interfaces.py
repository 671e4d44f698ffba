"""Detaching an instance's NIC from its dashboard page asks first: the confirmation names the NIC, its
network and addresses and what becomes of its port, and changes nothing; confirming starts the detach."""

import uuid

import pytest

from apps.compute import states
from apps.compute.models import Instance
from apps.infrastructure.tests.factories import ZoneFactory
from apps.jobs.models import Job
from apps.networks.models import Port
from apps.networks.tests.factories import network_node, nics_for, project_network, vlan_pool
from apps.portal.tests.conftest import signed_in

from .factories import InstanceFactory


@pytest.fixture
def instance(project):
    zone = ZoneFactory(name="zone-a")
    node = network_node(zone, name="node-1")
    vlan_pool(zone)
    network = project_network(project, zone, cidr="192.168.7.0/24", name="private")
    instance = InstanceFactory(project=project, name="web-1", host=node, zone=zone)
    nics_for(project, [{"network_id": network.pk}], instance, node)
    return instance


def detach_address(instance, port_id=None):
    port_id = port_id or instance_port(instance)
    return f"/dashboard/projects/{instance.project_id}/instances/{instance.pk}/interfaces/{port_id}/detach/"


def instance_port(instance):
    return Port.objects.get(instance_id=instance.pk).pk


def test_opening_a_nics_detach_address_names_it_and_changes_nothing(member, instance):
    response = signed_in(member).get(detach_address(instance))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Detach eth0 from web-1?" in page
    assert "eth0 on private (192.168.7.3) is unplugged from web-1 by its host" in page
    assert "Its port was made for the instance: it is deleted" in page
    assert f'<a href="/dashboard/projects/{instance.project_id}/instances/{instance.pk}/"' in page
    assert Instance.objects.get(pk=instance.pk).task_state is None
    assert not Job.objects.filter(object_id=str(instance.pk)).exists()


def test_confirming_starts_the_detach_and_says_so_on_the_instance_page(member, instance):
    response = signed_in(member).post(detach_address(instance), follow=True)

    assert (
        response.redirect_chain[-1][0]
        == f"/dashboard/projects/{instance.project_id}/instances/{instance.pk}/"
    )
    assert "Detaching eth0 from web-1" in response.content.decode()
    assert Instance.objects.get(pk=instance.pk).task_state == states.DETACHING_INTERFACE
    assert Job.objects.filter(object_id=str(instance.pk), kind__endswith="detach_interface").exists()


def test_a_project_reader_is_refused_before_the_confirmation(reader, instance):
    client = signed_in(reader)

    asked, sent = client.get(detach_address(instance)), client.post(detach_address(instance))

    assert asked.status_code == sent.status_code == 403
    assert "Detach eth0" not in asked.content.decode()
    assert Instance.objects.get(pk=instance.pk).task_state is None


def test_a_port_that_is_not_one_of_the_instances_nics_is_not_found(member, instance):
    client = signed_in(member)
    address = detach_address(instance, uuid.uuid4())

    assert client.get(address).status_code == client.post(address).status_code == 404


def test_the_instance_page_links_to_the_confirmation_instead_of_posting(member, instance):
    page = signed_in(member).get(f"/dashboard/projects/{instance.project_id}/instances/{instance.pk}/")

    html = page.content.decode()
    assert f'<a href="{detach_address(instance)}" class="button danger small" data-confirm' in html
    assert f'action="{detach_address(instance)}"' not in html
