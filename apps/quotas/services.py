"""Claims against quota limits, race-free, checked against a project and all its domains.

`claim()` and `release()` run inside the caller's transaction, so the claim
commits or rolls back with the resource that holds it. Each is one statement.

What is counted where. A usage row with a limit (a project's `ports` limited to
100, a domain's `instances` to 1,000) keeps `used`, the sum of the claims under
it: a claim locks it `FOR NO KEY UPDATE`, checks `used + amount <= limit` and
adds the amount; so a limit of N admits exactly N claims of 1, whatever the
concurrency. A row without a limit can refuse nothing: a claim only takes it
`FOR KEY SHARE` (claims share it, nobody waits) and does not count on it. Its
usage is read from the claims when someone looks (usage_of,
selectors.quotas_for), and is counted into `used` the moment a limit is set on
it: setting a limit takes the row `FOR UPDATE`, which conflicts with both modes
and so waits for every claim and release under way there, then sums the claims
under it. A claim that found the row unlimited but reaches it after the limit
was set finds it no longer in the set it locked, and runs again, after a
rollback to the savepoint the first run began with: it gives back what that run
locked, which it would otherwise hold out of the order below.
So a cloud whose domains have no limits (the default) serializes no claims of
different projects on ROOT's rows, and a project without a limit serializes
nothing at all; a limited row is held only from the claim, which services make
their last statement, to the commit.

Rows are locked in primary-key order within each lock mode, so concurrent
claims never wait for each other in a circle.
"""

from collections import defaultdict
from contextlib import nullcontext

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Sum

from apps.audit.recorder import audited
from apps.core.errors import Conflict, NotFound, PermissionDenied, QuotaExceeded, ValidationFailed
from apps.core.prepared import PreparedStatement
from apps.core.tree import PLATFORM, ancestor_ids
from apps.identity.models import Domain, Project

from . import resources
from .models import UNLIMITED, DefaultQuota, QuotaClaim, QuotaUsage

# A claim or release runs again when rows were missing or a limit changed under it; this often, at most.
ATTEMPTS = 5
_CHAIN_SAVEPOINT = "quotas_chain"

# The usage rows of a project and of every domain above it for some resources: those with a limit
# locked FOR NO KEY UPDATE in id order, the others FOR KEY SHARE, after a share lock on the project that
# makes a move wait (the path is a subquery, not a join: when a move commits while this waits for
# the lock, PostgreSQL re-reads the moved project row but would keep the old joined domain row).
# `complete`: every row exists and none changed its limit between the scan and the lock.
_CHAIN_CTES = """
project AS MATERIALIZED (
    SELECT p.id, (SELECT d.path FROM identity_domain d WHERE d.id = p.domain_id) AS path
      FROM identity_project p WHERE p.id = %(project)s FOR SHARE
), chain AS MATERIALIZED (
    SELECT u.id FROM quotas_quotausage u
     WHERE u.resource = ANY(%(resources)s)
       AND (u.project_id = (SELECT id FROM project)
            OR u.domain_id = ANY(
                (SELECT string_to_array(trim(BOTH '/' FROM path), '/') FROM project)::uuid[]))
), counted_rows AS MATERIALIZED (
    SELECT u.id, u.project_id, u.domain_id, u.resource, u."limit", u.used FROM quotas_quotausage u
     WHERE u.id IN (SELECT id FROM chain) AND u."limit" <> -1
     ORDER BY u.id
       FOR NO KEY UPDATE OF u
), free_rows AS MATERIALIZED (
    SELECT u.id FROM quotas_quotausage u
     WHERE u.id IN (SELECT id FROM chain) AND u."limit" = -1
     ORDER BY u.id
       FOR KEY SHARE OF u
), complete AS MATERIALIZED (
    SELECT (SELECT count(*) FROM counted_rows) + (SELECT count(*) FROM free_rows)
         = cardinality(%(resources)s::varchar[]) * (
             SELECT cardinality(string_to_array(trim(BOTH '/' FROM path), '/')) + 1 FROM project) AS ok
)"""

# One claim: the chain locked, the limited rows checked, and only when every row is there and none
# refuses, the amounts added to the limited rows and the claims recorded. It answers with the
# project's domain path, whether the chain was complete, and the first row that refuses (the
# project's before the domains'), if any.
_CLAIM_SQL = f"""
WITH {_CHAIN_CTES}, wanted AS MATERIALIZED (
    SELECT * FROM unnest(%(resources)s::varchar[], %(amounts)s::bigint[]) AS w(resource, amount)
), refusal AS MATERIALIZED (
    SELECT c.*, w.amount FROM counted_rows c JOIN wanted w USING (resource)
     WHERE c.used + w.amount > c."limit" AND %(checked)s
     ORDER BY c.project_id NULLS LAST, c.id LIMIT 1
), go AS MATERIALIZED (
    SELECT (SELECT ok FROM complete) AND NOT EXISTS (SELECT 1 FROM refusal) AS ok
), counted AS (
    UPDATE quotas_quotausage u SET used = u.used + w.amount
      FROM counted_rows c JOIN wanted w USING (resource)
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
"""  # noqa: S608 (composed of this module's constants only)
_CLAIM = PreparedStatement(
    "quotas_claim",
    _CLAIM_SQL,
    {
        "project": "uuid",
        "resources": "varchar[]",
        "amounts": "bigint[]",
        "checked": "boolean",
        "claim_resources": "varchar[]",
        "claim_amounts": "bigint[]",
        "holder_types": "int[]",
        "holder_ids": "varchar[]",
    },
)

# One release: the holder's claims locked (a second release of the same holder waits on them and
# then finds none), their amounts taken off the limited rows, and the claims deleted, after the chain
# is locked. The usage table is written before the claims table, the order recalcquota locks them in.
_RELEASE_SQL = f"""
WITH {_CHAIN_CTES}, mine AS MATERIALIZED (
    SELECT id, resource, amount FROM quotas_quotaclaim
     WHERE holder_type_id = %(holder_type)s AND holder_id = %(holder_id)s AND (SELECT ok FROM complete)
       FOR UPDATE
), given AS MATERIALIZED (
    SELECT resource, sum(amount) AS amount FROM mine GROUP BY resource
), given_back AS (
    UPDATE quotas_quotausage u SET used = u.used - g.amount
      FROM counted_rows c JOIN given g USING (resource)
     WHERE u.id = c.id
), gone AS (
    DELETE FROM quotas_quotaclaim WHERE id IN (SELECT id FROM mine)
)
SELECT (SELECT path FROM project), (SELECT ok FROM complete),
       (SELECT coalesce(json_object_agg(resource, amount), '{{}}') FROM given)
"""  # noqa: S608 (composed of this module's constants only)
_RELEASE = PreparedStatement(
    "quotas_release",
    _RELEASE_SQL,
    {"project": "uuid", "resources": "varchar[]", "holder_type": "int", "holder_id": "varchar"},
)


def _in_transaction():
    """The caller's transaction, or a new one: no savepoint, as nothing is written before the checks pass."""
    return nullcontext() if connection.in_atomic_block else transaction.atomic()


def default_limits(names):
    """{resource: a new project's limit} for the resources `names`: the stored default, or the catalogue's."""
    stored = (
        dict(DefaultQuota.objects.filter(resource__in=names).values_list("resource", "limit"))
        if names
        else {}
    )
    return {name: stored.get(name, resources.get(name).default_project_limit) for name in names}


def ensure_rows(*, domain_ids=(), project_ids=(), resource_names=None):
    """Create the usage rows that do not exist yet (new scopes, newly registered resources)."""
    names = list(resource_names or resources.resource_types())
    defaults = default_limits(names) if project_ids else {}
    rows = [QuotaUsage(domain_id=d, resource=n) for d in domain_ids for n in names]
    rows += [QuotaUsage(project_id=p, resource=n, limit=defaults[n]) for p in project_ids for n in names]
    QuotaUsage.objects.bulk_create(rows, ignore_conflicts=True)


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


def _busy():
    return Conflict("Quota limits changed under this request; try again.", code="quota_busy")


def _run_on_complete_chain(statement, params, resource_names):
    """Run `statement` until it found the whole chain: missing rows are made, a limit changed meanwhile is
    seen on the next run. Returns its answer's other columns.

    Each run starts a savepoint (in the same round trip), and a run that found the chain incomplete is
    rolled back to it, giving back the locks it took. Kept, they would be held out of order on the next
    run (the project's row before a domain's row that got a limit meanwhile), and two claims could wait
    for each other in a circle. A complete run's savepoint stays until the caller's transaction ends.
    """
    sql, values = statement.query(params)
    for _ in range(ATTEMPTS):
        with connection.cursor() as cursor:
            cursor.execute(f"SAVEPOINT {_CHAIN_SAVEPOINT}; {sql}", values)
            path, complete, *answer = cursor.fetchone()
            if path is None:
                raise NotFound("The project does not exist.")
            if complete:
                return answer
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_CHAIN_SAVEPOINT}")
        ensure_rows(
            domain_ids=ancestor_ids(path), project_ids=[params["project"]], resource_names=resource_names
        )
    raise _busy()


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
    """Take the amounts of every (holder, {resource: n}) of `project` at once, or none; QuotaExceeded."""
    _claim_all(project, holders, reader=reader, checked=True)


def _claim_all(project, holders, *, reader, checked):
    """`checked` False: recorded and counted without a look at the limits (what was held already)."""
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
        "checked": checked,
    }
    with _in_transaction():
        refused = _run_on_complete_chain(_CLAIM, params, list(totals))
        if refused[0] is not None or refused[1] is not None:
            raise _refusal(project, reader, *refused)


def _refusal(project, reader, project_id, domain_id, resource, limit, used, amount):
    scope = project if project_id is not None else Domain.objects.get(pk=domain_id)
    return quota_exceeded(scope, resource, limit, used, amount, project=project, reader=reader)


def release(holder):
    """Give back everything `holder` claimed and return it ({resource: n}). Releasing twice is harmless.

    Locks follow the claim's order (project, usage rows, then claims), so releases,
    claims and `recalcquota --fix` never wait for each other in a circle.
    """
    holder_type = ContentType.objects.get_for_model(holder)
    held = list(
        QuotaClaim.objects.filter(holder_type=holder_type, holder_id=str(holder.pk)).values_list(
            "project_id", "resource"
        )
    )
    if not held:
        return {}
    names = sorted({resource for _, resource in held})
    params = {
        "project": held[0][0],
        "resources": names,
        "holder_type": holder_type.pk,
        "holder_id": str(holder.pk),
    }
    with _in_transaction():
        (given,) = _run_on_complete_chain(_RELEASE, params, names)
    return {resource: int(amount) for resource, amount in given.items()}


def adjust(project, holder, amounts, *, reader=None):
    """Change what `holder` holds to `amounts` ({resource: n}; a resource it holds and is not named
    goes to 0), e.g. an instance resized to another size. Returns {resource: change}.

    An increase is checked against every limit like a claim, and refused with
    QuotaExceeded with nothing changed; a decrease always passes, so giving back
    (a resize confirmed or reverted) never fails, even under a limit lowered since.
    It is a release and claims again in one transaction: what stays or shrinks is
    claimed unchecked, what grows is checked on top of it.
    """
    amounts = {name: int(n) for name, n in amounts.items() if int(n)}
    # The claims check each resource and amount (_claims_of); a refusal rolls the release back.
    with transaction.atomic():
        held = release(holder)
        changes = {r: amounts.get(r, 0) - held.get(r, 0) for r in {*held, *amounts}}
        changes = {r: n for r, n in changes.items() if n}
        grown = {r: n for r, n in amounts.items() if changes.get(r, 0) > 0}
        kept = {r: n for r, n in amounts.items() if r not in grown}
        _claim_all(project, [(holder, kept)], reader=reader, checked=False)
        _claim_all(project, [(holder, grown)], reader=reader, checked=True)
    return changes


def claimed_by(holder):
    holder_type = ContentType.objects.get_for_model(holder)
    return dict(
        QuotaClaim.objects.filter(holder_type=holder_type, holder_id=str(holder.pk)).values_list(
            "resource", "amount"
        )
    )


_KEY_SHARE_FREE_ROWS_SQL = """
SELECT id FROM quotas_quotausage
 WHERE domain_id = ANY(%s::uuid[]) AND resource = ANY(%s::varchar[]) AND "limit" = -1
 ORDER BY id FOR KEY SHARE
"""


def _locked_domain_rows(domain_ids, resource_names):
    """The domains' usage rows with a limit, locked FOR NO KEY UPDATE; the others are taken FOR KEY SHARE.

    Again when a limit changed between the two reads, until every row is held one way or the other.
    """
    domain_ids, names = [str(d) for d in domain_ids], list(resource_names)
    rows = QuotaUsage.objects.filter(domain_id__in=domain_ids, resource__in=names).order_by("id")
    for _ in range(ATTEMPTS):
        limited = list(
            rows.exclude(limit=UNLIMITED)
            .select_for_update(of=("self",), no_key=True)
            .select_related("domain")
        )
        with connection.cursor() as cursor:
            cursor.execute(_KEY_SHARE_FREE_ROWS_SQL, [domain_ids, names])
            free = cursor.fetchall()
        if len(limited) + len(free) == len(domain_ids) * len(names):
            return limited
    raise _busy()


def move_project_usage(project, new_domain, *, reader=None):
    """Carry a project's usage from its domain chain to new_domain's, or raise naming the limit.

    The caller holds the project row locked FOR UPDATE, so no claim runs meanwhile.
    Only the domains with a limit count it; the others are held so that a limit set
    on them meanwhile waits and then counts the project where it is.
    """
    old_ids = set(ancestor_ids(project.domain.path))
    new_ids = set(ancestor_ids(new_domain.path))
    leaving, joining = old_ids - new_ids, new_ids - old_ids
    usage = held_by_projects([project.pk])
    if not usage:
        return
    ensure_rows(domain_ids=joining, resource_names=usage)
    rows = _locked_domain_rows(leaving | joining, usage)
    for row in rows:
        if row.domain_id in joining and row.used + usage[row.resource] > row.limit:
            raise quota_exceeded(
                row.domain,
                row.resource,
                row.limit,
                row.used,
                usage[row.resource],
                project=project,
                reader=reader,
            )
    for row in rows:
        sign = 1 if row.domain_id in joining else -1
        QuotaUsage.objects.filter(pk=row.pk).update(used=row.used + sign * usage[row.resource])


def held_by_projects(project_ids, resource=None):
    """{resource: total} the claims of these projects hold (of `resource` only, if named)."""
    claims = QuotaClaim.objects.filter(project_id__in=project_ids)
    if resource is not None:
        claims = claims.filter(resource=resource)
    return {
        r: int(n) for r, n in claims.values("resource").annotate(n=Sum("amount")).values_list("resource", "n")
    }


def held_under(scope, resource=None):
    """{resource: total} held by the claims under a project or a domain (its whole subtree)."""
    if isinstance(scope, Project):
        return held_by_projects([scope.pk], resource)
    projects = Project.objects.filter(domain__path__startswith=scope.path).values("pk")
    return held_by_projects(projects, resource)


def set_limit(actor, scope, resource, limit):
    """Set a project's or a domain's limit for one resource (-1: unlimited).

    A row that gets a limit starts counting: under its lock (every claim under way
    there has finished), its usage is the sum of the claims under it. One that
    loses its limit stops counting.
    """
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
        row = QuotaUsage.objects.select_for_update().get(resource=resource, **key)
        if int(limit) == UNLIMITED:
            used = 0
        elif row.unlimited:
            used = held_under(scope, resource).get(resource, 0)
        else:
            used = row.used
        QuotaUsage.objects.filter(pk=row.pk).update(limit=int(limit), used=used)
        row.limit, row.used = int(limit), used
        return row


def set_default_limit(actor, resource, limit):
    if resource not in resources.resource_types():
        raise ValidationFailed(f"Unknown resource {resource!r}.", code="unknown_resource")
    with audited(actor, "quotas.default.update", target=PLATFORM) as op:
        if not actor.can("quotas.default.update", PLATFORM):
            raise PermissionDenied("Only cloud administrators set default quotas.")
        op.details = {"resource": resource, "limit": int(limit)}
        DefaultQuota.objects.update_or_create(resource=resource, defaults={"limit": int(limit)})


def usage_of(scope):
    """{resource: (limit, used)} for a project or a domain, every registered resource included.

    `used` is the counted usage where there is a limit, the claims' sum where there is none.
    """
    key = {"project": scope} if isinstance(scope, Project) else {"domain": scope}
    stored = {q.resource: (q.limit, q.used) for q in QuotaUsage.objects.filter(**key)}
    absent = [name for name in resources.resource_types() if name not in stored]
    fallback = default_limits(absent) if isinstance(scope, Project) else dict.fromkeys(absent, UNLIMITED)
    limits = {
        name: stored[name][0] if name in stored else fallback[name] for name in resources.resource_types()
    }
    held = held_under(scope) if UNLIMITED in limits.values() else {}
    return {
        name: (limit, held.get(name, 0) if limit == UNLIMITED else stored.get(name, (limit, 0))[1])
        for name, limit in limits.items()
    }


def owned_claims(project_ids):
    """{resource: total} of what the given projects still hold."""
    return held_by_projects(project_ids)
