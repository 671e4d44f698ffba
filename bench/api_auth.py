"""Bench: what authentication and the permission check add to one API request, in time and SQL.

It starts a throwaway PostgreSQL cluster with pg_stat_statements (bench/pgcluster.py;
the system cluster is untouched), creates the database `cloudmgr_bench_auth`,
migrates and bootstraps it, and bulk-inserts N users and N projects (default
10,000 each) in a domain tree of depth 5, with one role assignment and one token
per user and every quota row. Then it starts a real controller
(`manage.py runcontroller`) and measures over HTTP, on one keep-alive connection:

- latency of an authenticated `GET /api/v1/projects/` against the same server's
  unauthenticated `GET /healthz`, interleaved; "added" is the difference of the medians;
- the SQL statements per authenticated request across all connections, from
  pg_stat_statements, split by what they are for: authentication (which reads
  the grants with the token or key), a permission check of its own if any, the
  list itself.

The controller runs with no job workers and no periodic ticks during the
measurement, so every statement counted comes from the requests; the healthz
window proves it (exactly one statement per request). Each authentication
method is a function in AUTH_METHODS returning a function that gives the
headers of each request (an API key signs every request anew: a nonce is
accepted once) and the projects the listing must show. Measured: an unscoped
token, a token scoped to one project, and an API key on that project, whose
nonces go to Redis (one round trip, no SQL) unless `--nonce-store postgresql`.

The last line printed is one JSON object with the figures.

    .venv/bin/python bench/api_auth.py [--users 10000 --projects 10000 --depth 5 --requests 2000]
                                       [--nonce-store redis://127.0.0.1:6379/0 | postgresql]
"""

import argparse
import hashlib
import http.client
import json
import os
import secrets
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from common import cpu_seconds, p95
from pgcluster import Cluster

from apps.core.tests.controllers import ControllerProcess

DATABASE = "cloudmgr_bench_auth"
MEASURED_USERNAME = "bench-measured-user"
MEASURED_PROJECTS = 3
BATCH = 2000
WARM_UP_REQUESTS = 300
COUNTED_REQUESTS = 500
TARGET_STATEMENTS = 3
TARGET_ADDED_MS = 5.0

# What each SQL statement is for, by the tables it names; the first match wins (the grants
# query joins projects, so it must be recognised before a list query).
STATEMENT_KINDS = [
    ("authentication", ("identity_token", "identity_apikey")),
    ("permission", ("identity_roleassignment", "identity_rule")),
    ("list", ("identity_project",)),
    ("health check", ("SELECT $1",)),
]
AUTH_KINDS = ("authentication", "permission")


def migrate_and_bootstrap():
    from django.core.management import call_command

    from apps.identity.services.bootstrap import bootstrap

    call_command("migrate", verbosity=0)
    root, _ = bootstrap()
    return root


def build_domains(root, depth, fanout):
    """`fanout` children per domain, `depth` levels under ROOT; returns the levels, ROOT first."""
    from apps.identity.models import Domain

    levels = [[root]]
    for level in range(1, depth + 1):
        created = []
        for parent in levels[-1]:
            for number in range(fanout):
                domain_id = uuid.uuid4()
                created.append(
                    Domain(
                        id=domain_id,
                        parent=parent,
                        name=f"d{level}-{number}",
                        path=f"{parent.path}{domain_id.hex}/",
                        depth=level,
                    )
                )
        Domain.objects.bulk_create(created, batch_size=BATCH)
        levels.append(created)
    return levels


def populate(root, *, users, projects, depth, fanout, measured_password):
    """Bulk-insert the cloud; returns the measured user's projects (ids)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from apps.core import policy
    from apps.identity.models import Project, Role, RoleAssignment, Token, User
    from apps.identity.services.tokens import hash_token
    from apps.quotas.services import ensure_rows

    with transaction.atomic():
        levels = build_domains(root, depth, fanout)
        leaves = levels[-1]
        project_rows = [
            Project(domain=leaves[number % len(leaves)], name=f"project-{number}")
            for number in range(projects)
        ]
        Project.objects.bulk_create(project_rows, batch_size=BATCH)
        bulk_hash = make_password(secrets.token_urlsafe(16), hasher="md5")
        user_rows = [
            User(
                username=f"user-{number}",
                domain=project_rows[number % projects].domain,
                password=bulk_hash,
            )
            for number in range(users - 1)
        ]
        measured_home = project_rows[-1]
        measured = User(
            username=MEASURED_USERNAME,
            domain=measured_home.domain,
            password=make_password(measured_password, hasher="pbkdf2_sha256"),
        )
        User.objects.bulk_create([*user_rows, measured], batch_size=BATCH)
        member = Role.objects.get(name=policy.PROJECT_MEMBER)
        domain_admin = Role.objects.get(name=policy.DOMAIN_ADMIN)
        assignments = [
            RoleAssignment(user=user, role=member, project=project_rows[number % projects])
            for number, user in enumerate(user_rows)
        ]
        assignments += [
            RoleAssignment(user=user_rows[number], role=domain_admin, domain=domain)
            for number, domain in enumerate(levels[1])
        ]
        measured_projects = project_rows[-MEASURED_PROJECTS:]
        assignments += [RoleAssignment(user=measured, role=member, project=p) for p in measured_projects]
        RoleAssignment.objects.bulk_create(assignments, batch_size=BATCH)
        expires = timezone.now() + timedelta(hours=1)
        Token.objects.bulk_create(
            [
                Token(key_hash=hash_token(secrets.token_urlsafe(32)), user=u, expires_at=expires)
                for u in user_rows
            ],
            batch_size=BATCH,
        )
        ensure_rows(
            domain_ids=[d.pk for level in levels for d in level],
            project_ids=[p.pk for p in project_rows],
        )
    return [str(p.pk) for p in measured_projects], sum(len(level) for level in levels[1:])


class Client:
    """One keep-alive HTTP connection to the controller."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, headers=None, body=None):
        """(status, body bytes, milliseconds from sending to the last byte).

        A connection the controller closed while it sat idle (cheroot's keep-alive timeout,
        e.g. while a bench fills the database) is opened again, once.
        """
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            self.connection.close()
            started = time.perf_counter()
            self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - started) * 1000

    def json(self, method, path, payload, headers=None):
        body = json.dumps(payload).encode()
        status, data, _ = self.request(
            method, path, {"Content-Type": "application/json", **(headers or {})}, body
        )
        return status, json.loads(data or b"{}")


class Bench:
    """What an authentication method needs to set itself up."""

    def __init__(self, client, password, project_ids):
        self.client = client
        self.username = MEASURED_USERNAME
        self.password = password
        self.project_ids = project_ids


def log_in(bench, **scope):
    status, body = bench.client.json(
        "POST", "/api/v1/auth/tokens/", {"username": bench.username, "password": bench.password, **scope}
    )
    if status != 201:
        raise SystemExit(f"login failed: {status} {body}")
    return {"Authorization": f"Bearer {body['token']}"}


def token_auth(bench):
    """Log in once for an unscoped token; every request carries it as a bearer header."""
    headers = log_in(bench)
    return (lambda method, path, body=b"": headers), bench.project_ids


def project_token_auth(bench):
    """A token scoped to one project: the same listing as the API key's."""
    project_id = bench.project_ids[0]
    headers = log_in(bench, project_id=project_id)
    return (lambda method, path, body=b"": headers), [project_id]


def api_key_auth(bench):
    """Create an API key on one project with a token, then sign every request with it."""
    from cloudmgr.client import sign

    project_id = bench.project_ids[0]
    status, key = bench.client.json(
        "POST", "/api/v1/api-keys/", {"project_id": project_id, "name": "bench"}, log_in(bench)
    )
    if status != 201:
        raise SystemExit(f"creating the API key failed: {status} {key}")

    def headers_for(method, path, body=b""):
        return sign(key["access_key"], key["secret"], method, path, hashlib.sha256(body).hexdigest())

    return headers_for, [project_id]


AUTH_METHODS = {"token": token_auth, "project_token": project_token_auth, "api_key": api_key_auth}


def no_headers(method, path, body=b""):
    return {}


def controller_for(cluster, secret_key, log_path):
    """A controller on the bench database, with the real password hasher."""
    return ControllerProcess(
        "bench",
        log_path=log_path,
        environment={
            "CLOUDMGR_DATABASE_URL": cluster.url(DATABASE),
            "CLOUDMGR_SECRET_KEY": secret_key,
            # Nothing but the requests may run statements while they are counted.
            "CLOUDMGR_JOB_WORKERS": "0",
            "CLOUDMGR_PERIODIC_TICK_SECONDS": "3600",
        },
        without=("CLOUDMGR_FAST_PASSWORD_HASHER",),
    )


def kind_of(query):
    for kind, markers in STATEMENT_KINDS:
        if any(marker in query for marker in markers):
            return kind
    return "other"


class Window:
    """What `requests` calls of one path cost: statements (pg_stat_statements), DB time, controller CPU."""

    def __init__(self, cluster, client, controller_pid, path, headers_for, requests):
        monitor = cluster.connect("postgres")
        with monitor.cursor() as cursor:
            cursor.execute("SELECT pg_stat_statements_reset()")
            cpu_before = cpu_seconds(controller_pid)
            for _ in range(requests):
                status, data, _ = client.request("GET", path, headers_for("GET", path))
                if status != 200:
                    raise SystemExit(f"GET {path}: {status} {data[:300]!r}")
            self.cpu_ms = (cpu_seconds(controller_pid) - cpu_before) * 1000 / requests
            cursor.execute(
                "SELECT s.query, s.calls, s.total_plan_time + s.total_exec_time FROM pg_stat_statements s"
                " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s AND s.calls > 0"
                " ORDER BY s.calls DESC, s.query",
                [DATABASE],
            )
            rows = cursor.fetchall()
        monitor.close()
        self.statements = [
            (kind_of(query), calls / requests, ms / calls, " ".join(query.split()))
            for query, calls, ms in rows
        ]
        self.db_ms = sum(ms for _, _, ms in rows) / requests

    @property
    def count(self):
        return sum(per_request for _, per_request, _, _ in self.statements)

    def by_kind(self):
        kinds = {}
        for kind, per_request, _, _ in self.statements:
            kinds[kind] = kinds.get(kind, 0) + per_request
        return kinds


def latencies(client, authenticated_path, headers_for, requests):
    """Interleaved timings (ms) of the authenticated path and of /healthz."""
    timed, health = [], []
    for _ in range(requests):
        status, data, ms = client.request("GET", "/healthz")
        if status != 200:
            raise SystemExit(f"/healthz: {status}")
        health.append(ms)
        headers = headers_for("GET", authenticated_path)
        status, data, ms = client.request("GET", authenticated_path, headers)
        if status != 200:
            raise SystemExit(f"GET {authenticated_path}: {status} {data[:300]!r}")
        timed.append(ms)
    return timed, health


def measure_method(name, prepare, bench, cluster, controller_pid, requests):
    path = "/api/v1/projects/"
    headers_for, expected_ids = prepare(bench)
    status, data, _ = bench.client.request("GET", path, headers_for("GET", path))
    listed = json.loads(data)
    if status != 200 or sorted(p["id"] for p in listed["results"]) != sorted(expected_ids):
        raise SystemExit(f"{name}: the listing is not the expected projects: {status} {data[:300]!r}")
    for _ in range(WARM_UP_REQUESTS):
        bench.client.request("GET", path, headers_for("GET", path))
        bench.client.request("GET", "/healthz")
    listing = Window(cluster, bench.client, controller_pid, path, headers_for, COUNTED_REQUESTS)
    health = Window(cluster, bench.client, controller_pid, "/healthz", no_headers, COUNTED_REQUESTS)
    timed, health_timed = latencies(bench.client, path, headers_for, requests)
    by_kind = listing.by_kind()
    return {
        "statements": listing.statements,
        "by_kind": by_kind,
        "auth_statements": sum(by_kind.get(kind, 0) for kind in AUTH_KINDS),
        "health_statements": health.count,
        "median_ms": statistics.median(timed),
        "p95_ms": p95(timed),
        "healthz_median_ms": statistics.median(health_timed),
        "healthz_p95_ms": p95(health_timed),
        "cpu_ms": listing.cpu_ms,
        "healthz_cpu_ms": health.cpu_ms,
        "db_ms": listing.db_ms,
        "healthz_db_ms": health.db_ms,
    }


def time_auth_path(headers, requests):
    """Authentication and the permission grants exactly as the controller runs them, timed in this
    process on the same database: what they add to a request, without the listing, DRF and
    serialisation that the HTTP figures above also contain."""
    from django.test import RequestFactory
    from rest_framework.request import Request

    from apps.identity.api.authentication import TokenAuthentication

    factory, authentication, samples = RequestFactory(), TokenAuthentication(), []
    for _ in range(requests):
        request = Request(factory.get("/api/v1/projects/", HTTP_AUTHORIZATION=headers["Authorization"]))
        started = time.perf_counter()
        _user, principal = authentication.authenticate(request)
        principal.can("identity.project.read", principal.user.target())
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(samples), "p95_ms": p95(samples)}


def print_report(setup, results):
    print()
    print(
        f"cloud: {setup['users']} users, {setup['projects']} projects, {setup['domains']} domains,"
        f" depth {setup['domain_depth']}; {setup['requests']} timed requests per endpoint;"
        f" API-key nonces in {setup['nonce_store']}"
    )
    for name, r in results.items():
        print(f"\n== {name}: SQL statements per GET /api/v1/projects/ (all connections, pg_stat_statements)")
        print(f"{'kind':<15} {'per request':>11} {'SQL ms':>7}  statement")
        for kind, per_request, ms, query in r["statements"]:
            print(f"{kind:<15} {per_request:>11.2f} {ms:>7.3f}  {query[:100]}")
        print(
            f"{'':<15} {r['auth_statements']:>11.2f} {'':>7}  = authentication + permission"
            f" (target <= {TARGET_STATEMENTS}); GET /healthz ran {r['health_statements']:.2f}"
        )
        print(f"\n{'per request (ms)':<36} {'median':>8} {'p95':>8} {'CPU':>8} {'SQL':>8}")
        rows = [
            (
                "GET /healthz (no auth)",
                "healthz_median_ms",
                "healthz_p95_ms",
                "healthz_cpu_ms",
                "healthz_db_ms",
            ),
            (f"GET /api/v1/projects/ ({name})", "median_ms", "p95_ms", "cpu_ms", "db_ms"),
        ]
        for label, *keys in rows:
            print(f"{label:<36}" + "".join(f" {r[key]:>8.2f}" for key in keys))
        added = [r[b] - r[a] for a, b in zip(rows[0][1:], rows[1][1:], strict=True)]
        print(
            f"{'added':<36}"
            + "".join(f" {value:>8.2f}" for value in added)
            + f"   (target < {TARGET_ADDED_MS})"
        )
        print(
            "CPU: the controller process's CPU time; SQL: planning + execution in PostgreSQL"
            " (pg_stat_statements). Wall times include waiting for a CPU on a busy machine."
        )


def figures(setup, results):
    out = dict(setup)
    for name, r in results.items():
        out[f"{name}_auth_statements"] = round(r["auth_statements"], 2)
        for kind, per_request in sorted(r["by_kind"].items()):
            out[f"{name}_{kind.replace(' ', '_')}_statements"] = round(per_request, 2)
        out[f"{name}_median_ms"] = round(r["median_ms"], 3)
        out[f"{name}_p95_ms"] = round(r["p95_ms"], 3)
        out[f"{name}_added_median_ms"] = round(r["median_ms"] - r["healthz_median_ms"], 3)
        out[f"{name}_added_p95_ms"] = round(r["p95_ms"] - r["healthz_p95_ms"], 3)
        out[f"{name}_healthz_statements"] = round(r["health_statements"], 2)
        out[f"{name}_added_cpu_ms"] = round(r["cpu_ms"] - r["healthz_cpu_ms"], 3)
        out[f"{name}_added_sql_ms"] = round(r["db_ms"] - r["healthz_db_ms"], 3)
    token = results["token"]
    out.update(
        median_ms=round(token["median_ms"], 3),
        p95_ms=round(token["p95_ms"], 3),
        healthz_median_ms=round(token["healthz_median_ms"], 3),
        healthz_p95_ms=round(token["healthz_p95_ms"], 3),
        added_median_ms=round(token["median_ms"] - token["healthz_median_ms"], 3),
    )
    # An API key against a token with the same scope (same listing): what signing costs on top.
    key, scoped = results["api_key"], results["project_token"]
    out.update(
        api_key_over_project_token_median_ms=round(key["median_ms"] - scoped["median_ms"], 3),
        api_key_over_project_token_cpu_ms=round(key["cpu_ms"] - scoped["cpu_ms"], 3),
        api_key_over_project_token_sql_ms=round(key["db_ms"] - scoped["db_ms"], 3),
    )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--fanout", type=int, default=3, help="sub-domains per domain")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per endpoint")
    parser.add_argument(
        "--nonce-store",
        default="redis://127.0.0.1:6379/0",
        help="where the controller keeps API-key nonces: a redis:// URL or postgresql",
    )
    args = parser.parse_args()
    if args.projects < MEASURED_PROJECTS or args.users < 2 or args.depth < 1:
        parser.error(f"need at least {MEASURED_PROJECTS} projects, 2 users and depth 1")
    secret_key = secrets.token_urlsafe(40)
    # The controller inherits this environment.
    os.environ["CLOUDMGR_API_KEY_NONCE_STORE"] = args.nonce_store
    password = secrets.token_urlsafe(16)
    with Cluster() as cluster, tempfile.TemporaryDirectory(prefix="cloudmgr-bench-") as scratch:
        print(f"PostgreSQL cluster on port {cluster.port}; creating {DATABASE}", flush=True)
        cluster.create_database(DATABASE, stat_statements=True)
        cluster.setup_django(DATABASE, secret_key)
        started = time.monotonic()
        root = migrate_and_bootstrap()
        project_ids, domains = populate(
            root,
            users=args.users,
            projects=args.projects,
            depth=args.depth,
            fanout=args.fanout,
            measured_password=password,
        )
        from django.db import connections

        connections.close_all()
        analyzed = cluster.connect(DATABASE)
        analyzed.cursor().execute("VACUUM ANALYZE")
        analyzed.close()
        print(f"populated in {time.monotonic() - started:.1f} s", flush=True)
        controller = controller_for(cluster, secret_key, Path(scratch, "controller.log"))
        try:
            controller.wait_ready()
            bench = Bench(Client(controller.port), password, project_ids)
            results = {
                name: measure_method(name, prepare, bench, cluster, controller.process.pid, args.requests)
                for name, prepare in AUTH_METHODS.items()
            }
            auth_path = time_auth_path(log_in(bench), args.requests)
        finally:
            controller.stop()
    setup = {
        "users": args.users,
        "projects": args.projects,
        "domains": domains,
        "domain_depth": args.depth,
        "requests": args.requests,
        "nonce_store": "postgresql" if args.nonce_store == "postgresql" else "redis",
    }
    print_report(setup, results)
    print(
        f"\ntoken authentication + permission grants alone (in process, 1 statement):"
        f" median {auth_path['median_ms']:.2f} ms, p95 {auth_path['p95_ms']:.2f} ms (target < 5.0)"
    )
    out = figures(setup, results)
    out.update(
        auth_path_median_ms=round(auth_path["median_ms"], 3), auth_path_p95_ms=round(auth_path["p95_ms"], 3)
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
