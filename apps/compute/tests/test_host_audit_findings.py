"""Host audit findings over their life (opened, kept, resolved), the portal page and the API's scope.

The host side is a signed heartbeat built here with agent.protocol's signing
and posted to the real agent endpoint, as an agent sends it: these cases need
drift that a libvirt test driver in another process cannot be asked to show
on cue (an unmanaged domain that comes and goes, an instance mid-action).
The real agent process cases are in test_host_audit.py.
"""

import dataclasses
import time
import uuid

from django.test import Client

from agent import protocol
from apps.compute.host_audit import audit_hosts
from apps.infrastructure.models import Host, HostAuditFinding
from apps.infrastructure.tests.agents import SignedAgent, heartbeat_message

from .factories import InstanceFactory

UNMANAGED = protocol.UnmanagedDomain(name="hand-made", uuid=str(uuid.uuid4()), power_state="running")


def heartbeat(agent, instances=(), unmanaged=()):
    """A heartbeat from an agent whose clock runs a second ahead: the controller takes the inventory
    as of its receipt, so the instances the test made just before are judged on it."""
    message = heartbeat_message(agent.name, instances)
    inventory = protocol.Inventory(instances=list(instances), unmanaged_domains=list(unmanaged))
    ahead = dataclasses.replace(message, inventory=inventory, sent_at=int(time.time()) + 1)
    response = agent.post(protocol.HEARTBEAT_PATH, ahead)
    assert response.status_code == 200, response.content


def open_kinds(host):
    audit_hosts(Host.objects.filter(pk=host.pk))
    return sorted(HostAuditFinding.objects.filter(host=host, resolved_at=None).values_list("kind", "subject"))


def test_a_finding_stays_open_while_the_host_reports_it_and_is_resolved_when_it_is_gone(root, admin_api):
    agent = SignedAgent.enrolled("audited-host")
    host = Host.objects.get(name=agent.name)
    heartbeat(agent, unmanaged=[UNMANAGED])
    assert open_kinds(host) == [("unmanaged_domain", UNMANAGED.uuid)]
    first = HostAuditFinding.objects.get(host=host)
    heartbeat(agent, unmanaged=[UNMANAGED])
    assert open_kinds(host) == [("unmanaged_domain", UNMANAGED.uuid)]
    assert HostAuditFinding.objects.get(host=host).pk == first.pk

    heartbeat(agent)
    assert open_kinds(host) == []
    resolved = admin_api.get("/api/v1/host-audit/", {"resolved": "true"})
    assert [(r["kind"], r["domain_name"]) for r in resolved.data["results"]] == [
        ("unmanaged_domain", "hand-made")
    ]
    assert resolved.data["results"][0]["resolved_at"] is not None
    assert admin_api.get("/api/v1/host-audit/").data["results"] == []


def test_an_instance_in_the_middle_of_an_action_is_not_reported_missing(root):
    agent = SignedAgent.enrolled("busy-host")
    heartbeat(agent)
    host = Host.objects.get(name=agent.name)
    idle = InstanceFactory(host=host)
    InstanceFactory(host=host, task_state="powering-off")
    heartbeat(agent)
    assert open_kinds(host) == [("missing_domain", str(idle.pk))]


def test_an_instance_launched_after_the_agent_listed_its_domains_is_not_reported_missing(root):
    agent = SignedAgent.enrolled("late-host")
    heartbeat(agent)
    host = Host.objects.get(name=agent.name)
    InstanceFactory(host=host)
    listed_before = dataclasses.replace(heartbeat_message(agent.name), sent_at=int(time.time()) - 5)
    assert agent.post(protocol.HEARTBEAT_PATH, listed_before).status_code == 200
    assert open_kinds(host) == []


def test_a_host_never_heard_from_has_nothing_to_audit(root):
    agent = SignedAgent.enrolled("silent-host")
    host = Host.objects.get(name=agent.name)
    InstanceFactory(host=host)
    assert open_kinds(host) == []


def test_the_admin_portal_lists_findings_and_audits_on_demand(root, cloud_admin, member):
    agent = SignedAgent.enrolled("portal-host")
    heartbeat(agent, unmanaged=[UNMANAGED])
    admin = Client()
    admin.force_login(cloud_admin)

    ran = admin.post("/admin-portal/host-audit/run/", follow=True)
    assert ran.status_code == 200
    page = ran.content.decode()
    assert "1 open finding(s)" in page
    assert 'data-kind="unmanaged_domain"' in page
    assert "hand-made" in page

    tenant = Client()
    tenant.force_login(member)
    assert tenant.get("/admin-portal/host-audit/").status_code == 404
    assert tenant.post("/admin-portal/host-audit/run/").status_code == 404


def test_only_cloud_admins_run_the_audit_through_the_api(root, admin_api, api):
    assert api.post("/api/v1/host-audit/run/", {}, format="json").status_code == 403
    ran = admin_api.post("/api/v1/host-audit/run/", {}, format="json")
    assert (ran.status_code, ran.data) == (200, {"open_findings": 0})
    unknown = admin_api.post("/api/v1/host-audit/run/", {"host_id": str(uuid.uuid4())}, format="json")
    assert unknown.status_code == 404
