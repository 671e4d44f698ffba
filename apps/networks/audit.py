"""The network audit: what each host's agent finds between its real network and its desired state.

The comparison runs on the host (agent/network/drift.py), against the state the
controller serves from the database: bridges, VLAN interfaces, namespaces,
dnsmasq and its host lists, nftables tables, router addresses and floating IP
mappings. What the agent can repair safely it repairs in the same run, and says
so. The controller keeps the differences as the host audit's findings
(apps.infrastructure.models.HostAuditFinding, kind `network`), beside the
domain findings of apps/compute/host_audit.py:

- a difference the host repaired is recorded already resolved (it happened);
- one it did not repair stays open until a complete comparison no longer sees it;
- a complete comparison (a sync or an audit task) resolves the open ones it does
  not see; a report of daemons the agent restarted between audits is partial.

Audits run periodically on every up host (`networks.audit_networks`), and on
demand through the API, the admin portal and `manage.py netaudit`.
"""

from apps.audit.recorder import audited
from apps.core.tree import PLATFORM
from apps.identity.services.common import require
from apps.infrastructure.models import Host

from .host_work import audit_host
from .policy_actions import NETWORK_AUDIT_RUN


def audited_hosts():
    """The hosts a network audit reaches: enrolled and up."""
    return Host.objects.filter(state=Host.UP).exclude(public_key="").order_by("name")


def audit_networks():
    """Periodic work: an audit job on every up host (one at a time per host); returns how many started."""
    return len([audit_host(host) for host in audited_hosts()])


def run_network_audit(actor, hosts, *, repair=True):
    """An admin's network audit now (API, portal, manage.py): one job per host; returns the jobs."""
    with audited(actor, NETWORK_AUDIT_RUN, target=PLATFORM) as op:
        require(actor, NETWORK_AUDIT_RUN, PLATFORM, "Only cloud administrators run the network audit.")
        jobs = [audit_host(host, repair=repair, actor=actor) for host in hosts]
        op.details = {"hosts": len(jobs), "repair": repair}
        return jobs
