"""Claims against quota limits, race-free, checked against a project and all its domains.

`claim()` and `release()` run inside the caller's transaction, so the claim
commits or rolls back with the resource that holds it. Rows are locked in one
statement in primary-key order, so concurrent claims never deadlock and never
over-claim: a limit of N admits exactly N claims of 1, whatever the concurrency.
A claim is one statement (lock, check, count, record): a service that claims as
its last step holds the usage rows only until its commit.
"""

from collections import defaultdict
from contextlib import nullcontext

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When

from apps.audit.recorder import audited
from apps.core.errors import NotFound, PermissionDenied, QuotaExceeded, ValidationFailed
from apps.core.tree import PLATFORM, ancestor_ids
from apps.identity.models import Domain, Project

from . import resources
from .models import UNLIMITED, DefaultQuota, QuotaClaim, QuotaUsage


def _project_domain_path_shared(project_id):
    """The project's current domain path, holding a share lock so a move waits for this claim.

    The path is a subquery, not a join: when a move commits while this waits for the
    lock, PostgreSQL re-reads the moved project row but would keep the old joined
    domain row, drop the row as no longer matching, and the claim would fail.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT d.path FROM identity_domain d WHERE d.id = p.domain_id)"
            " FROM identity_project p WHERE p.id = %s FOR SHARE",
            [project_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("The project does not exist.")
    return row[0]


# The usage rows of a project and of every domain above it, locked in id order, after a share
# lock on the project that makes a move wait for this claim (see _project_domain_path_shared
# for why the path is a subquery). Each row carries the path, to tell whether every row exists.
_LOCK_CHAIN_SQL = """
WITH project AS MATERIALIZED (
    SELECT p.id, (SELECT d.path FROM identity_domain d WHERE d.id = p.domain_id) AS path
      FROM identity_project p WHERE p.id = %s FOR SHARE
)
SELECT u.*, (SELECT path FROM project) AS chain_path
  FROM quotas_quotausage u
 WHERE u.resource = ANY(%s)
   AND (u.project_id = (SELECT id FROM project)
        OR u.domain_id = ANY((SELECT string_to_array(trim(BOTH '/' FROM path), '/') FROM project)::uuid[]))
 ORDER BY u.id
   FOR UPDATE OF u
"""


def _lock_chain(project_id, resource_names):
    """The usage rows of the project and its domains, locked, creating the missing ones.

    One statement when every row exists, which is every time but the first for a
    new project, domain or resource.
    """
    resource_names = list(resource_names)
    rows = list(QuotaUsage.objects.raw(_LOCK_CHAIN_SQL, [project_id, resource_names]))
    if rows:
        domain_ids = ancestor_ids(rows[0].chain_path)
        if len(rows) == len(resource_names) * (len(domain_ids) + 1):
            return rows
    domain_ids = ancestor_ids(_project_domain_path_shared(project_id))
    ensure_rows(domain_ids=domain_ids, project_ids=[project_id], resource_names=resource_names)
    return _lock_rows(_chain_filter(project_id, domain_ids), resource_names)


def _in_transaction():
    """The caller's transaction, or a new one: no savepoint, as nothing is written before the checks pass."""
    return nullcontext() if connection.in_atomic_block else transaction.atomic()


def _chain_filter(project_id, domain_ids):
    return Q(project_id=project_id) | Q(domain_id__in=domain_ids)


def _lock_rows(condition, resource_names):
    return list(
        QuotaUsage.objects.select_for_update(of=("self",))
        .select_related("domain", "project")
        .filter(condition, resource__in=resource_names)
        .order_by("id")
    )


def default_limit(resource):
    stored = DefaultQuota.objects.filter(resource=resource).values_list("limit", flat=True).first()
    return stored if stored is not None else resources.get(resource).default_project_limit


def ensure_rows(*, domain_ids=(), project_ids=(), resource_names=None):
    """Create the usage rows that do not exist yet (new scopes, newly registered resources)."""
    names = list(resource_names or resources.resource_types())
    defaults = {name: default_limit(name) for name in names}
    rows = [QuotaUsage(domain_id=d, resource=n) for d in domain_ids for n in names]
    rows += [QuotaUsage(project_id=p, resource=n, limit=defaults[n]) for p in project_ids for n in names]
    QuotaUsage.objects.bulk_create(rows, ignore_conflicts=True)


def _check(rows, amounts, project, reader):
    for row in rows:
        amount = amounts[row.resource]
        if not row.allows(amount):
            scope = row.project or row.domain
            raise quota_exceeded(
                scope, row.resource, row.limit, row.used, amount, project=project, reader=reader
            )


def quota_exceeded(scope, resource, limit, used, requested, *, project, reader):
    """The refusal of `requested` more of `resource` in `project`, past the limit of `scope`.

    The project itself or a domain above it. The message is also the audit event's,
    which the project's members read, so it never gives a domain's limit, usage or
    name. The details name the scope, its limit and usage only to a `reader` who may
    read that scope's quotas (None: the system, which may read everything).
    """
    if isinstance(scope, Project):
        message = (
            f"Quota exceeded for {resource} in project '{scope.name}': limit {limit}, used {used}, "
            f"asked for {requested}."
        )
    else:
        message = (
            f"Quota exceeded for {resource}: a domain above project '{project.name}' has no room for "
            f"{requested} more."
        )
    details = {"resource": resource, "scope": "project" if isinstance(scope, Project) else "domain"}
    details["requested"] = requested
    if reader is None or reader.can("quotas.quota.read", scope.target()):
        details.update(scope_id=str(scope.pk), scope_name=scope.name, limit=limit, used=used)
    return QuotaExceeded(message, details=details)


def _add_usage(row_ids_by_resource, amounts, sign=1):
    whens = []
    ids = []
    for resource, row_ids in row_ids_by_resource.items():
        ids += row_ids
        whens.append(When(id__in=row_ids, then=F("used") + Value(sign * amounts[resource])))
    if ids:
        QuotaUsage.objects.filter(id__in=ids).update(
            used=Case(*whens, default=F("used"), output_field=BigIntegerField())
        )


def _group_ids(rows):
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.resource].append(row.id)
    return grouped


# One claim, one statement: the project's row shared (a move waits), the usage rows of the
# project and of every domain above it for the resources asked locked in id order, each
# checked, and, only when every row exists and none refuses, the amounts added and the claims
# recorded. It answers with the project's domain path, how many rows it locked and the first
# row that refuses (the project's before the domains'), if any.
_CLAIM_SQL = """
WITH project AS MATERIALIZED (
    SELECT p.id, (SELECT d.path FROM identity_domain d WHERE d.id = p.domain_id) AS path
      FROM identity_project p WHERE p.id = %(project)s FOR SHARE
), wanted AS MATERIALIZED (
    SELECT * FROM unnest(%(resources)s::varchar[], %(amounts)s::bigint[]) AS w(resource, amount)
), chain AS MATERIALIZED (
    SELECT u.id, u.project_id, u.domain_id, u.resource, u."limit", u.used
      FROM quotas_quotausage u
     WHERE u.resource = ANY(%(resources)s)
       AND (u.project_id = (SELECT id FROM project)
            OR u.domain_id = ANY(
                (SELECT string_to_array(trim(BOTH '/' FROM path), '/') FROM project)::uuid[]))
     ORDER BY u.id
       FOR UPDATE OF u
), complete AS MATERIALIZED (
    SELECT (SELECT count(*) FROM chain) = (SELECT count(*) FROM wanted) * (
        SELECT cardinality(string_to_array(trim(BOTH '/' FROM path), '/')) + 1 FROM project) AS ok
), refusal AS MATERIALIZED (
    SELECT c.*, w.amount FROM chain c JOIN wanted w USING (resource)
     WHERE c."limit" <> -1 AND c.used + w.amount > c."limit"
     ORDER BY c.project_id NULLS LAST, c.id LIMIT 1
), go AS MATERIALIZED (
    SELECT (SELECT ok FROM complete) AND NOT EXISTS (SELECT 1 FROM refusal) AS ok
), counted AS (
    UPDATE quotas_quotausage u SET used = u.used + w.amount
      FROM chain c JOIN wanted w USING (resource)
     WHERE u.id = c.id AND (SELECT ok FROM go)
), recorded AS (
    INSERT INTO quotas_quotaclaim (project_id, resource, amount, holder_type_id, holder_id, created_at)
    SELECT %(project)s, h.resource, h.amount, h.holder_type_id, h.holder_id, statement_timestamp()
      FROM unnest(%(claim_resources)s::varchar[], %(claim_amounts)s::bigint[], %(holder_types)s::int[],
                  %(holder_ids)s::varchar[]) AS h(resource, amount, holder_type_id, holder_id)
     WHERE (SELECT ok FROM go)
)
SELECT (SELECT path FROM project), (SELECT ok FROM complete),
       r.project_id, r.domain_id, r.resource, r."limit", r.used, r.amount
  FROM (SELECT 1) AS one LEFT JOIN refusal r ON true
"""


def _claims_of(holders):
    """[(resource, amount, holder type id, holder id)] of [(holder, {resource: n})], amounts checked."""
    claims = []
    for holder, amounts in holders:
        holder_type = ContentType.objects.get_for_model(holder)
        for name, n in amounts.items():
            n = int(n)
            resources.get(name)
            if n < 0:
                raise ValueError("claims are positive; use release()")
            if n:
                claims.append((name, n, holder_type.pk, str(holder.pk)))
    return claims


def claim(project, amounts, holder, *, reader=None):
    """Take `amounts` ({resource: n}) for `holder`, an object of `project`, or raise QuotaExceeded.

    `reader`: the principal the refusal is for (see quota_exceeded).
    """
    claim_all(project, [(holder, amounts)], reader=reader)


def claim_all(project, holders, *, reader=None):
    """Take the amounts of every (holder, {resource: n}) of `project` at once, or none; QuotaExceeded.

    One statement when every usage row exists (every time but the first for a new
    project, domain or resource): a transaction that claims last holds the rows
    locked only for its commit.
    """
    claims = _claims_of(holders)
    if not claims:
        return
    totals = defaultdict(int)
    for name, n, _, _ in claims:
        totals[name] += n
    params = {
        "project": project.pk,
        "resources": list(totals),
        "amounts": list(totals.values()),
        "claim_resources": [c[0] for c in claims],
        "claim_amounts": [c[1] for c in claims],
        "holder_types": [c[2] for c in claims],
        "holder_ids": [c[3] for c in claims],
    }
    with _in_transaction():
        path, complete, *refused = _run_claim(params)
        if path is None:
            raise NotFound("The project does not exist.")
        if not complete:
            ensure_rows(domain_ids=ancestor_ids(path), project_ids=[project.pk], resource_names=list(totals))
            path, complete, *refused = _run_claim(params)
        if refused[0] is not None or refused[1] is not None:
            raise _refusal(project, reader, *refused)


def _run_claim(params):
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, params)
        return cursor.fetchone()


def _refusal(project, reader, project_id, domain_id, resource, limit, used, amount):
    scope = project if project_id is not None else Domain.objects.get(pk=domain_id)
    return quota_exceeded(scope, resource, limit, used, amount, project=project, reader=reader)


def release(holder):
    """Give back everything `holder` claimed and return it ({resource: n}). Releasing twice is harmless.

    Locks follow the claim's order (project, usage rows, then claims), so releases,
    claims and `recalcquota --fix` never wait for each other in a circle.
    """
    holder_type = ContentType.objects.get_for_model(holder)
    mine = QuotaClaim.objects.filter(holder_type=holder_type, holder_id=str(holder.pk))
    with _in_transaction():
        seen = list(mine.values_list("project_id", "resource"))
        if not seen:
            return {}
        rows = _lock_chain(seen[0][0], {resource for _, resource in seen})
        # Re-read under the usage locks: a concurrent release of the same holder has finished by now.
        claims = list(mine.select_for_update())
        amounts = {c.resource: c.amount for c in claims}
        _add_usage(_group_ids(r for r in rows if r.resource in amounts), amounts, sign=-1)
        QuotaClaim.objects.filter(id__in=[c.id for c in claims]).delete()
    return amounts


def claimed_by(holder):
    holder_type = ContentType.objects.get_for_model(holder)
    return dict(
        QuotaClaim.objects.filter(holder_type=holder_type, holder_id=str(holder.pk)).values_list(
            "resource", "amount"
        )
    )


def move_project_usage(project, new_domain, *, reader=None):
    """Carry a project's usage from its domain chain to new_domain's, or raise naming the limit.

    The caller holds the project row locked FOR UPDATE, so no claim runs meanwhile.
    """
    old_ids = set(ancestor_ids(project.domain.path))
    new_ids = set(ancestor_ids(new_domain.path))
    leaving, joining = old_ids - new_ids, new_ids - old_ids
    usage = {r: u for r, u in project.quotas.filter(used__gt=0).values_list("resource", "used")}
    if not usage:
        return
    ensure_rows(domain_ids=joining, resource_names=usage)
    rows = _lock_rows(Q(domain_id__in=leaving | joining), usage)
    joining_rows = [row for row in rows if row.domain_id in joining]
    leaving_rows = [row for row in rows if row.domain_id in leaving]
    _check(joining_rows, usage, project, reader)
    _add_usage(_group_ids(joining_rows), usage)
    _add_usage(_group_ids(leaving_rows), usage, sign=-1)


def set_limit(actor, scope, resource, limit):
    """Set a project's or a domain's limit for one resource (-1: unlimited)."""
    if resource not in resources.resource_types():
        raise ValidationFailed(f"Unknown resource {resource!r}.", code="unknown_resource")
    if int(limit) < UNLIMITED:
        raise ValidationFailed("A limit is -1 (unlimited) or a number from 0 up.", code="bad_limit")
    action = "quotas.quota.update"
    with audited(actor, action, target=scope.admin_target(), obj=scope) as op:
        if not actor.can(action, scope.admin_target()):
            raise PermissionDenied(f"You may not change the quotas of {scope}.")
        op.details = {"resource": resource, "limit": int(limit)}
        key = {"project": scope} if isinstance(scope, Project) else {"domain": scope}
        if isinstance(scope, Project):
            ensure_rows(project_ids=[scope.pk], resource_names=[resource])
        else:
            ensure_rows(domain_ids=[scope.pk], resource_names=[resource])
        QuotaUsage.objects.filter(resource=resource, **key).update(limit=int(limit))
        return QuotaUsage.objects.get(resource=resource, **key)


def set_default_limit(actor, resource, limit):
    if resource not in resources.resource_types():
        raise ValidationFailed(f"Unknown resource {resource!r}.", code="unknown_resource")
    with audited(actor, "quotas.default.update", target=PLATFORM) as op:
        if not actor.can("quotas.default.update", PLATFORM):
            raise PermissionDenied("Only cloud administrators set default quotas.")
        op.details = {"resource": resource, "limit": int(limit)}
        DefaultQuota.objects.update_or_create(resource=resource, defaults={"limit": int(limit)})


def usage_of(scope):
    """{resource: (limit, used)} for a project or a domain, every registered resource included."""
    key = {"project": scope} if isinstance(scope, Project) else {"domain": scope}
    stored = {q.resource: (q.limit, q.used) for q in QuotaUsage.objects.filter(**key)}
    result = {}
    for name in resources.resource_types():
        if name in stored:
            result[name] = stored[name]
        elif isinstance(scope, Project):
            result[name] = (default_limit(name), 0)
        else:
            result[name] = (UNLIMITED, 0)
    return result


def owned_claims(project_ids):
    """{resource: total} of what the given projects still hold."""
    totals = defaultdict(int)
    for resource, amount in QuotaClaim.objects.filter(project_id__in=project_ids).values_list(
        "resource", "amount"
    ):
        totals[resource] += amount
    return dict(totals)
