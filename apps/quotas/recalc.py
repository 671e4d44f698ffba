"""Recompute quota usage from the objects that hold quota and their claims, and report what differs.

Four kinds of finding:
- an orphan claim: its holder no longer exists, or is no longer live (a
  deleted instance still holding its claims);
- an unheld claim: a live holder (an instance, an image…) that does not hold
  what it must (apps/quotas/holders.py), e.g. an instance holding no claim at
  all, which would run uncounted;
- a project's recorded usage that differs from what its holders hold;
- a domain's recorded usage that differs from the total over its subtree.
A row without a limit counts nothing (apps/quotas/services.py): its recorded usage must be 0.

Claims wait while it runs; with fix=True everything is corrected in that same
transaction: orphan claims are dropped, unheld ones recorded (even past a
limit: the object exists and uses what it uses), usage rewritten.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from apps.identity.models import Project

from .holders import holder_kinds, kind_of
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


@dataclass(frozen=True)
class Unheld:
    holder: str
    resource: str
    expected: int
    held: int


@dataclass
class Recalculation:
    drifts: list = field(default_factory=list)
    orphans: list = field(default_factory=list)
    unheld: list = field(default_factory=list)

    @property
    def clean(self):
        return not (self.drifts or self.orphans or self.unheld)

    def summary(self):
        return (
            f"{len(self.drifts)} drift(s), {len(self.orphans)} orphan claim(s), "
            f"{len(self.unheld)} unheld claim(s)"
        )


@dataclass(frozen=True)
class _Claim:
    id: int
    holder_type_id: int
    holder_id: str
    project_id: object
    resource: str
    amount: int


class _Holders:
    """Claims checked against their holders: what is wrong, and what every holder should hold."""

    def __init__(self, claims):
        self.orphans, self.unheld = [], []
        self.replaced = {}  # (holder type id, holder id) -> [(project id, resource, amount)] to record
        self.kept = []  # (project id, resource, amount) of every claim that stands as it is
        by_type = defaultdict(lambda: defaultdict(list))
        for claim in claims:
            by_type[claim.holder_type_id][claim.holder_id].append(claim)
        for type_id, by_holder in by_type.items():
            self._check_type(type_id, by_holder)
        for type_id, kind in _registered_kinds_without_claims(by_type):
            self._check_registered(type_id, kind, {})

    def _check_type(self, type_id, by_holder):
        model = ContentType.objects.get_for_id(type_id).model_class()
        kind = kind_of(model) if model is not None else None
        if kind is not None:
            self._check_registered(type_id, kind, by_holder)
            return
        existing = (
            {
                str(pk)
                for pk in model._default_manager.filter(pk__in=list(by_holder)).values_list("pk", flat=True)
            }
            if model is not None
            else set()
        )
        label = model._meta.label_lower if model is not None else f"type {type_id}"
        for holder_id, claims in by_holder.items():
            if holder_id in existing:
                self.kept += [(c.project_id, c.resource, c.amount) for c in claims]
            else:
                self.orphans += [Orphan(c.id, f"{label}:{holder_id}", c.resource, c.amount) for c in claims]

    def _check_registered(self, type_id, kind, by_holder):
        expected = kind.expected()
        for holder_id, claims in by_holder.items():
            if holder_id not in expected:
                self.orphans += [
                    Orphan(c.id, f"{kind.label}:{holder_id}", c.resource, c.amount) for c in claims
                ]
        for holder_id, (project_id, wanted) in expected.items():
            claims = by_holder.get(holder_id, [])
            held = {c.resource: c.amount for c in claims if c.project_id == project_id}
            if held == wanted and len(claims) == len(held):
                self.kept += [(project_id, r, n) for r, n in wanted.items()]
                continue
            self.unheld += [
                Unheld(f"{kind.label}:{holder_id}", r, wanted.get(r, 0), held.get(r, 0))
                for r in sorted(set(wanted) | set(held))
                if wanted.get(r, 0) != held.get(r, 0)
            ]
            self.replaced[(type_id, holder_id)] = [(project_id, r, n) for r, n in wanted.items()]

    def held_by_projects(self):
        """{(project id, resource): total} once every holder holds what it should."""
        totals = defaultdict(int)
        for project_id, resource, amount in self.kept + [c for cs in self.replaced.values() for c in cs]:
            totals[(project_id, resource)] += amount
        return totals

    def fix(self):
        QuotaClaim.objects.filter(id__in=[o.claim_id for o in self.orphans]).delete()
        for (type_id, holder_id), claims in self.replaced.items():
            QuotaClaim.objects.filter(holder_type_id=type_id, holder_id=holder_id).delete()
            QuotaClaim.objects.bulk_create(
                QuotaClaim(project_id=p, resource=r, amount=n, holder_type_id=type_id, holder_id=holder_id)
                for p, r, n in claims
            )


def _registered_kinds_without_claims(by_type):
    for kind in holder_kinds():
        type_id = ContentType.objects.get_for_model(kind.model).id
        if type_id not in by_type:
            yield type_id, kind


def _drifts(expected_project, fix):
    project_paths = dict(Project.objects.values_list("id", "domain__path"))
    expected_domain = defaultdict(int)
    for (project_id, resource), amount in expected_project.items():
        for domain_hex in project_paths[project_id].strip("/").split("/"):
            expected_domain[(domain_hex, resource)] += amount
    drifts = []
    for row in QuotaUsage.objects.select_related("domain", "project"):
        if row.project_id:
            expected = expected_project.get((row.project_id, row.resource), 0)
            scope, owner = "project", row.project
        else:
            expected = expected_domain.get((row.domain_id.hex, row.resource), 0)
            scope, owner = "domain", row.domain
        if row.unlimited:
            # A row without a limit counts nothing (apps/quotas/services.py): its usage is the claims'.
            expected = 0
        if row.used != expected:
            drifts.append(Drift(scope, str(owner.pk), owner.name, row.resource, row.used, expected))
            if fix:
                QuotaUsage.objects.filter(pk=row.pk).update(used=expected)
    return drifts


def recalculate(fix=False):
    """Return a Recalculation; with fix, correct what it found."""
    with transaction.atomic():
        # Usage before claims, the order claims and releases take them in. Even a report
        # locks (SHARE: claims wait, nobody fails), so it never sees a claim half-counted.
        mode = "EXCLUSIVE" if fix else "SHARE"
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE quotas_quotausage, quotas_quotaclaim IN {mode} MODE")
        claims = [
            _Claim(*row)
            for row in QuotaClaim.objects.values_list(
                "id", "holder_type_id", "holder_id", "project_id", "resource", "amount"
            )
        ]
        holders = _Holders(claims)
        if fix:
            holders.fix()
        drifts = _drifts(holders.held_by_projects(), fix)
    return Recalculation(drifts, holders.orphans, holders.unheld)
