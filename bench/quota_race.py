"""Bench: concurrent quota claims from separate processes against a limit of 10, at domain depth 5.

It re-creates the database `cloudmgr_bench_quota` on the configured PostgreSQL
server (bench/common.py), migrates and bootstraps it, builds a chain of domains
down to depth 5 with a project at the bottom whose `instances` limit is 10, and
starts 64 racer processes (apps/core/tests/racers.py: each its own Python
interpreter with its own PostgreSQL connection). Each round:

- every racer claims 1 instance for a new holder (a user row created in the
  claim's transaction); they queue at an advisory-lock gate inside PostgreSQL
  and go at once. Exactly 10 must succeed and the 54 others be refused with
  quota_exceeded; claims per second is 64 over the time from the gate opening
  to the last answer;
- the 10 holders are released, concurrently, by 10 racers, and the usage of the
  project and of each of its 6 domains (ROOT included) must be back to 0.

After the rounds `recalcquota` must find no drift. Any other outcome (a wrong
count, a deadlock, an error) makes the exit status 1. The last line printed is
one JSON object with the figures.

    .venv/bin/python bench/quota_race.py [--rounds 10] [--racers 64] [--limit 10] [--depth 5]
"""

import argparse
import json
import os
import statistics
import sys

from common import fresh_database, server_settings

DATABASE = "cloudmgr_bench_quota"


def build_project(depth, limit):
    from apps.core.actor import Actor
    from apps.identity.lookup import domain_by_path
    from apps.identity.services.domains import create_domain
    from apps.identity.services.projects import create_project
    from apps.quotas.services import set_limit

    system = Actor.system("bench")
    domain = domain_by_path("ROOT")
    for level in range(1, depth + 1):
        domain = create_domain(system, parent=domain, name=f"level-{level}")
    project = create_project(system, domain=domain, name="racing")
    set_limit(system, project, "instances", limit)
    return project


def chain_usage(project):
    """Recorded `instances` usage of the project, then of each domain from ROOT down."""
    from apps.quotas.models import QuotaUsage

    rows = QuotaUsage.objects.filter(resource="instances")
    domains = rows.filter(domain_id__in=project.domain.ancestor_ids).order_by("domain__path")
    return [rows.get(project=project).used, *domains.values_list("used", flat=True)]


def race_rounds(racers, project, args):
    from django.db import connection

    from apps.quotas.tests.race import claim_job, release_job

    rounds = []
    for number in range(1, args.rounds + 1):
        claims = racers.run([claim_job(project.pk, {"instances": 1})] * args.racers, connection)
        releases = racers.run([release_job(holder) for holder in claims.holders], connection)
        usage_after = chain_usage(project)
        problems = [o["error"] for o in claims.unexpected + releases.unexpected]
        rounds.append(
            {
                "successes": len(claims.successes),
                "refusals": len(claims.refusals),
                "claims_per_second": args.racers / claims.seconds,
                "released": sum(1 for o in releases.successes if o["released"]),
                "usage_after_release": usage_after,
                "problems": problems,
            }
        )
        print(
            f"round {number:>2}: {len(claims.successes)} of {args.racers} claims succeeded, "
            f"{len(claims.refusals)} refused, {args.racers / claims.seconds:,.0f} claims/s; "
            f"released {rounds[-1]['released']}, usage after {usage_after}"
            + (f"; {len(problems)} unexpected error(s)" if problems else ""),
            flush=True,
        )
        for problem in problems:
            print(problem, file=sys.stderr)
    return rounds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--racers", type=int, default=64)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--depth", type=int, default=5)
    args = parser.parse_args()

    url = fresh_database(DATABASE)
    from apps.quotas.recalc import recalculate
    from apps.quotas.tests.race import quota_racers

    project = build_project(args.depth, args.limit)
    print(
        f"database {DATABASE}: project at domain depth {project.domain.depth}, instances limit {args.limit}"
    )
    print(f"starting {args.racers} racer processes", flush=True)
    with quota_racers(args.racers, url) as racers:
        rounds = race_rounds(racers, project, args)
    found = recalculate()

    successes = [r["successes"] for r in rounds]
    rates = [r["claims_per_second"] for r in rounds]
    correct = (
        all(s == args.limit for s in successes)
        and all(r["refusals"] == args.racers - args.limit and not r["problems"] for r in rounds)
        and all(r["usage_after_release"] == [0] * (args.depth + 2) for r in rounds)
        and found.clean
    )
    print(f"recalcquota: {found.summary()}")
    print("every round exactly at the limit" if correct else "FAILED: see the rounds above")
    figures = {
        "rounds": args.rounds,
        "racers": args.racers,
        "limit": args.limit,
        "domain_depth": args.depth,
        "successes_per_round": successes,
        "claims_per_second": round(statistics.median(rates)),
        "claims_per_second_per_round": [round(rate) for rate in rates],
        "recalc_drifts": len(found.drifts) + len(found.orphans) + len(found.unheld),
        "postgresql": server_settings("fsync", "synchronous_commit", "max_connections"),
        "load_average_1m_at_end": round(os.getloadavg()[0], 1),
        "correct": correct,
    }
    print(json.dumps(figures))
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
