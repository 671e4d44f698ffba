"""The networks app's kinds of host work: a host applies its desired network state, or audits it.

Declared on apps.infrastructure.hostwork and registered in NetworksConfig.ready().

- sync (`networks.host.sync`): a change committed; the host pulls its state
  (a signed GET, never the task: others read the broker) of at least the
  task's generation, applies it and answers with the drift it repaired on the
  way. The generation is taken when the task is sent, after the change
  committed, so a state of that generation holds the change (host_state.py).
  Services call `sync_hosts(fanout.hosts_for_…)` in the change's transaction.
- audit (`networks.host.audit`): the host compares its real network with the
  desired state and repairs it; its report joins the host audit's findings.

A failed or overdue job leaves nothing to settle: the host's own periodic audit,
and the next change, bring it to the desired state.
"""

from agent import protocol
from apps.core.tree import PLATFORM
from apps.infrastructure.hostwork import dispatch
from apps.infrastructure.hostwork.kinds import HostWork, Step, work_for
from apps.infrastructure.models import Host
from apps.jobs.models import Job

from .host_state import next_generation
from .policy_actions import NETWORK_INFRASTRUCTURE_READ

SYNC, AUDIT = "networks.host.sync", "networks.host.audit"


def _the_host(job, host):
    return host


class _HostNetworkWork(HostWork):
    """Its result (the generation and the differences) stays the job's: the host's network report,
    posted in the same run, is what makes the findings (agent_messages.py)."""

    def subject(self, job):
        return Host.objects.filter(pk=job.payload["host_id"]).first()


class SyncNetwork(_HostNetworkWork):
    kind = SYNC
    deadline_setting = "CLOUDMGR_NETWORK_SYNC_DEADLINE_SECONDS"
    steps = (
        Step(
            task=protocol.SYNC_NETWORK,
            payload=lambda job, host: protocol.SyncNetwork(generation=next_generation()),
            host=_the_host,
        ),
    )


class AuditNetwork(_HostNetworkWork):
    kind = AUDIT
    deadline_setting = "CLOUDMGR_NETWORK_AUDIT_DEADLINE_SECONDS"
    steps = (
        Step(
            task=protocol.AUDIT_NETWORK,
            payload=lambda job, host: protocol.AuditNetwork(repair=job.payload["repair"]),
            host=_the_host,
        ),
    )


HOST_WORK = (SyncNetwork(), AuditNetwork())


def _reachable(host_ids):
    """The hosts among `host_ids` that can take work now: enrolled and up (a host coming back audits)."""
    return Host.objects.filter(pk__in=list(host_ids), state=Host.UP).exclude(public_key="")


def sync_hosts(host_ids, *, skip=()):
    """Start a sync on each up host of `host_ids` but those in `skip`, sent after commit; returns the jobs.

    `skip`: hosts that learn the change otherwise (an instance's host pulls its state when it spawns).
    """
    wanted = set(host_ids) - set(skip)
    if not wanted:
        return []
    return [_start(SYNC, host, {"host_id": str(host.pk)}) for host in _reachable(wanted)]


def audit_host(host, *, repair=True, actor=None):
    """Start an audit of the host's network, unless one is already under way; returns its job."""
    running = Job.objects.filter(kind=AUDIT, queue=host.queue, state__in=(Job.PENDING, Job.RUNNING)).first()
    if running is not None:
        return running
    return _start(AUDIT, host, {"host_id": str(host.pk), "repair": repair}, actor=actor)


def _start(kind, host, payload, actor=None):
    return dispatch.start(
        work_for(kind),
        host=host,
        payload=payload,
        action=NETWORK_INFRASTRUCTURE_READ,
        target=PLATFORM,
        obj=host,
        actor=actor,
        subject=host,
    )
