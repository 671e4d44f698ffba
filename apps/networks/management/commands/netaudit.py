"""Audit hosts' networks now and print the differences: `netaudit [--host H] [--no-repair] [--wait S]`.

Each up host compares its bridges, VLAN interfaces, namespaces, dnsmasq host
lists, nftables tables and floating IP mappings with its desired state and
repairs what is safe (apps/networks/audit.py). The command waits for the hosts'
answers, then prints what each found: repaired differences, and those still
open. Exit 0 whatever the drift; 1 when a host did not answer in time.
"""

from django.db.models import Q
from django.utils import timezone

from apps.core.errors import Conflict, NotFound
from apps.core.management.base import ServiceCommand
from apps.infrastructure.models import HostAuditFinding
from apps.jobs.waiting import wait_for_job

from ...audit import audited_hosts, run_network_audit

COLUMNS = "{:<24} {:<9} {:<14} {:<40} {:<10} {}"


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--host", help="only this host (by name)")
        parser.add_argument("--no-repair", action="store_true", help="report only, change nothing")
        parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the hosts")

    def run(self, actor, host, no_repair, wait, **options):
        hosts = audited_hosts()
        if host:
            hosts = hosts.filter(name=host)
            if not hosts:
                raise NotFound(f"There is no up host {host}.", code="host_not_found")
        started = timezone.now()
        jobs = run_network_audit(actor, hosts, repair=not no_repair)
        unanswered = [job for job in jobs if not wait_for_job(job.pk, wait).finished]
        findings = HostAuditFinding.objects.select_related("host").filter(
            Q(last_seen__gte=started) | Q(resolved_at=None), kind=HostAuditFinding.NETWORK, host__in=hosts
        )
        self.stdout.write(COLUMNS.format("HOST", "STATE", "KIND", "NAME", "PROBLEM", "DETAIL"))
        for finding in findings.order_by("host__name", "subject"):
            details = finding.details
            self.stdout.write(
                COLUMNS.format(
                    finding.host.name,
                    "repaired" if details.get("repaired") else "open",
                    details.get("kind", ""),
                    details.get("name", ""),
                    details.get("problem", ""),
                    details.get("detail", ""),
                )
            )
        self.stdout.write(f"{findings.count()} difference(s) on {len(jobs)} host(s).")
        if unanswered:
            names = ", ".join(sorted(job.queue.removeprefix("host.") for job in unanswered))
            raise Conflict(f"No answer in {wait:g} s from: {names}.", code="audit_unanswered")
