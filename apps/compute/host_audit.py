"""The host audit: what a host's agent last reported against what the database says should be there.

Source of truth on the host side: the inventory of the latest heartbeat, stored
on the host (signed by the host's key, sent every heartbeat period), so an audit
costs no round-trip to the agent and audits of every host run in one pass. An
instance whose state changed after that report, or that is in the middle of an
action, is not judged on it.

Findings (apps.infrastructure.models.HostAuditFinding):
- extra_domain: a cloudmgr domain on the host for no live instance of that host (an
  unfinished move's copies are not: a resize's old copy on its source, the copy
  arriving on a destination);
- missing_domain: an instance that should have a domain on the host but has none;
- power_state: the domain's power state differs from the instance's desired state
  (a guest that shut itself down is synced to `stopped` instead: see
  apps.compute.states.guest_shut_down; any other off stays drift for recovery);
- unmanaged_domain: a domain without cloudmgr's metadata, reported and never touched.

Nothing here changes a domain: repairs that touch a host belong to recovery.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.audit.recorder import audited
from apps.core.tree import PLATFORM
from apps.identity.services.common import require
from apps.infrastructure.models import Host, HostAuditFinding

from . import states
from .models import Instance, Migration

AUDIT_READ = "compute.host_audit.read"
AUDIT_RUN = "compute.host_audit.run"

# The power state a domain has when its instance rests in this vm_state.
DESIRED_POWER = {
    states.ACTIVE: "running",
    states.STOPPED: "shutoff",
    states.PAUSED: "paused",
    states.SUSPENDED: "shutoff",
}


@dataclass
class Drift:
    kind: str
    subject: str
    instance_id: str | None = None
    domain_name: str = ""
    details: dict = field(default_factory=dict)


def _settled(instance, reported_at):
    """Judged on the report only when nothing happened to it since the report was made."""
    return instance.task_state is None and instance.updated_at <= reported_at


def compare(host, instances):
    """The drift between the host's stored report and `instances` (its live instances); syncs shutdowns."""
    inventory = host.reported_inventory or {}
    reported = {d["instance_id"]: d for d in inventory.get("instances", [])}
    reported_at = host.inventory_reported_at
    drift = []
    for instance in instances:
        domain = reported.pop(str(instance.pk), None)
        desired = DESIRED_POWER.get(instance.vm_state)
        if not _settled(instance, reported_at) or desired is None:
            continue
        if domain is None:
            drift.append(Drift(HostAuditFinding.MISSING, str(instance.pk), str(instance.pk), instance.name))
            continue
        if domain["power_state"] == desired:
            continue
        shut_down_by_guest = domain["power_state"] == "shutoff" and domain["reason"] == "shutdown"
        if shut_down_by_guest and states.guest_shut_down(instance.pk):
            continue
        details = {
            "vm_state": instance.vm_state,
            "expected": desired,
            "reported": domain["power_state"],
            "reason": domain["reason"],
        }
        subject = str(instance.pk)
        drift.append(Drift(HostAuditFinding.POWER_STATE, subject, subject, domain["domain_name"], details))
    for moving in _moving_through(host):
        reported.pop(moving, None)
    for instance_id, domain in reported.items():
        details = {"power_state": domain["power_state"], "reason": domain["reason"]}
        drift.append(Drift(HostAuditFinding.EXTRA, instance_id, instance_id, domain["domain_name"], details))
    for domain in inventory.get("unmanaged_domains", []):
        details = {"power_state": domain["power_state"]}
        drift.append(Drift(HostAuditFinding.UNMANAGED, domain["uuid"], None, domain["name"], details))
    return drift


def _moving_through(host):
    """Instances with an unfinished move from or to the host: their copies there are expected."""
    moves = Migration.objects.filter(
        Q(source=host) | Q(destination=host), status__in=states.MIGRATION_UNFINISHED
    )
    return {str(instance_id) for instance_id in moves.values_list("instance_id", flat=True)}


def _live_instances(host, reported_at):
    """The host's instances, and those deleted since the report (their domain may still be listed)."""
    live = Instance.objects.filter(host=host).exclude(vm_state=states.DELETED)
    recently_deleted = Instance.objects.filter(vm_state=states.DELETED, deleted_at__gt=reported_at)
    return list(live.union(recently_deleted))


def _record(host, drift, now):
    """Open, refresh and resolve the host's findings so they match `drift`; returns the open ones."""
    still_open = HostAuditFinding.objects.filter(
        host=host, resolved_at=None, kind__in=HostAuditFinding.DOMAIN_KINDS
    )
    open_findings = {(f.kind, f.subject): f for f in still_open}
    for item in drift:
        finding = open_findings.pop((item.kind, item.subject), None)
        if finding is None:
            HostAuditFinding.objects.create(
                host=host,
                kind=item.kind,
                subject=item.subject,
                instance_id=item.instance_id,
                domain_name=item.domain_name,
                details=item.details,
                first_seen=now,
                last_seen=now,
            )
        else:
            HostAuditFinding.objects.filter(pk=finding.pk).update(
                last_seen=now, details=item.details, domain_name=item.domain_name
            )
    HostAuditFinding.objects.filter(pk__in=[f.pk for f in open_findings.values()]).update(resolved_at=now)
    return HostAuditFinding.objects.filter(host=host, resolved_at=None)


def audit_host(host):
    """Audit one host from its latest report; returns its open findings (none before its first report)."""
    with transaction.atomic():
        # One audit of a host at a time: the periodic pass and an admin's run may meet.
        host = Host.objects.select_for_update().get(pk=host.pk)
        if host.inventory_reported_at is None:
            return HostAuditFinding.objects.none()
        now = timezone.now()
        drift = compare(host, _live_instances(host, host.inventory_reported_at))
        return _record(host, drift, now)


def audit_hosts(hosts=None):
    """Audit each host (all hosts with a report by default); returns how many open findings there are."""
    hosts = Host.objects.filter(inventory_reported_at__isnull=False) if hosts is None else hosts
    return sum(audit_host(host).count() for host in hosts)


def run_audit(actor, hosts=None):
    """An admin's audit now (API, portal, manage.py): the same pass as the periodic one."""
    with audited(actor, AUDIT_RUN, target=PLATFORM):
        require(actor, AUDIT_RUN, PLATFORM, "Only cloud administrators run the host audit.")
        return audit_hosts(hosts)


def findings_for(principal):
    """Findings the principal may see: all of them for a platform reader, else none."""
    if principal.can(AUDIT_READ, PLATFORM):
        return HostAuditFinding.objects.select_related("host")
    return HostAuditFinding.objects.none()
