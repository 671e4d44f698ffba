"""The host audit's findings of network differences, as hosts report them (see audit.py)."""

from django.db import transaction
from django.utils import timezone

from apps.infrastructure.models import HostAuditFinding

NETWORK = HostAuditFinding.NETWORK
SUBJECT_LENGTH = 64


def subject_of(item):
    return f"{item.kind}:{item.name}"[:SUBJECT_LENGTH]


def _details(item):
    return {"kind": item.kind, "name": item.name, "problem": item.problem, "detail": item.detail[:500]}


def record_drift(host, items, *, complete):
    """Record a host's network differences (protocol DriftItem) as findings; returns how many stay open."""
    now = timezone.now()
    with transaction.atomic():
        findings = HostAuditFinding.objects.select_for_update().filter(
            host=host, kind=NETWORK, resolved_at=None
        )
        still_open = {f.subject: f for f in findings}
        seen = set()
        for item in items:
            subject = subject_of(item)
            finding = still_open.get(subject)
            resolved_at = now if item.repaired else None
            if finding is None:
                HostAuditFinding.objects.create(
                    host=host,
                    kind=NETWORK,
                    subject=subject,
                    details={**_details(item), "repaired": item.repaired},
                    first_seen=now,
                    last_seen=now,
                    resolved_at=resolved_at,
                )
                continue
            HostAuditFinding.objects.filter(pk=finding.pk).update(
                last_seen=now, details={**_details(item), "repaired": item.repaired}, resolved_at=resolved_at
            )
            if not item.repaired:
                seen.add(subject)
        gone = [f.pk for subject, f in still_open.items() if subject not in seen]
        if complete and gone:
            HostAuditFinding.objects.filter(pk__in=gone, resolved_at=None).update(resolved_at=now)
        return HostAuditFinding.objects.filter(host=host, kind=NETWORK, resolved_at=None).count()
