"""Recompute quota usage from the claims and the objects that hold them, and report drift.

Drift has three kinds: a claim whose holder no longer exists (orphan), a
project's recorded usage that differs from the sum of its claims, and a
domain's recorded usage that differs from the sum over its subtree. Claims
wait while it runs; with fix=True everything is corrected in that same
transaction.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from apps.identity.models import Project

from .models import QuotaClaim, QuotaUsage


@dataclass(frozen=True)
class Drift:
    scope: str
    scope_id: str
    scope_name: str
    resource: str
    recorded: int
    expected: int


@dataclass(frozen=True)
class Orphan:
    claim_id: int
    holder: str
    resource: str
    amount: int


def _orphans():
    orphans = []
    by_type = defaultdict(list)
    for claim in QuotaClaim.objects.all().only("id", "holder_type", "holder_id", "resource", "amount"):
        by_type[claim.holder_type_id].append(claim)
    for type_id, claims in by_type.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        holder_ids = {c.holder_id for c in claims}
        existing = (
            {str(pk) for pk in model._default_manager.filter(pk__in=holder_ids).values_list("pk", flat=True)}
            if model is not None
            else set()
        )
        label = model._meta.label_lower if model is not None else f"type {type_id}"
        orphans += [
            Orphan(c.id, f"{label}:{c.holder_id}", c.resource, c.amount)
            for c in claims
            if c.holder_id not in existing
        ]
    return orphans


def recalculate(fix=False):
    """Return (drifts, orphans); with fix, correct them."""
    with transaction.atomic():
        # Usage before claims, the order claims and releases take them in. Even a report
        # locks (SHARE: claims wait, nobody fails), so it never sees a claim half-counted.
        mode = "EXCLUSIVE" if fix else "SHARE"
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE quotas_quotausage, quotas_quotaclaim IN {mode} MODE")
        orphans = _orphans()
        orphan_ids = {o.claim_id for o in orphans}
        expected_project = defaultdict(int)
        for claim_id, project_id, resource, amount in QuotaClaim.objects.values_list(
            "id", "project_id", "resource", "amount"
        ):
            if claim_id not in orphan_ids:
                expected_project[(project_id, resource)] += amount
        project_paths = dict(Project.objects.values_list("id", "domain__path"))
        expected_domain = defaultdict(int)
        for (project_id, resource), amount in expected_project.items():
            for domain_hex in project_paths[project_id].strip("/").split("/"):
                expected_domain[(domain_hex, resource)] += amount
        drifts = []
        rows = QuotaUsage.objects.select_related("domain", "project")
        for row in rows:
            if row.project_id:
                expected = expected_project.get((row.project_id, row.resource), 0)
                scope, owner = "project", row.project
            else:
                expected = expected_domain.get((row.domain_id.hex, row.resource), 0)
                scope, owner = "domain", row.domain
            if row.used != expected:
                drifts.append(Drift(scope, str(owner.pk), owner.name, row.resource, row.used, expected))
                if fix:
                    QuotaUsage.objects.filter(pk=row.pk).update(used=expected)
        if fix and orphan_ids:
            QuotaClaim.objects.filter(id__in=orphan_ids).delete()
    return drifts, orphans
