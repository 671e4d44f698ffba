"""Audit hosts now and print the open findings: `hostaudit [--host H]` (exit 0 whatever the drift).

The host audit compares hosts with the database (apps/compute/host_audit.py); the audit log is another thing.
"""

from apps.compute.host_audit import findings_for, run_audit
from apps.core.errors import NotFound
from apps.core.management.base import ServiceCommand
from apps.infrastructure.models import Host

COLUMNS = "{:<24} {:<17} {:<36} {:<24} {:<20} {}"


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--host", help="only this host (by name)")

    def run(self, actor, host, **options):
        hosts = Host.objects.order_by("name")
        if host:
            hosts = hosts.filter(name=host)
            if not hosts:
                raise NotFound(f"There is no host {host}.", code="host_not_found")
        run_audit(actor, hosts)
        findings = findings_for(actor.principal).filter(host__in=hosts, resolved_at=None)
        self.stdout.write(COLUMNS.format("HOST", "KIND", "SUBJECT", "DOMAIN", "FIRST SEEN", "DETAILS"))
        for finding in findings.order_by("host__name", "kind", "subject"):
            details = " ".join(f"{key}={value}" for key, value in sorted(finding.details.items()))
            self.stdout.write(
                COLUMNS.format(
                    finding.host.name,
                    finding.kind,
                    finding.subject,
                    finding.domain_name or "-",
                    finding.first_seen.isoformat(timespec="seconds"),
                    details,
                )
            )
        self.stdout.write(f"{findings.count()} open finding(s) on {len(hosts)} host(s).")
