"""Quota claims raced from separate processes, for the quota tests and bench/quota_race.py.

The racers and their gate are apps/core/tests/racers.py; this module is the racing side
(`python -m apps.quotas.tests.race`) and the jobs it takes.

A job is a claim, a release, a recalculation, a project deletion or a domain's new limit. A claim's
holder is a new user row created in the claim's own transaction: the foundation
has no resource models yet, and a user is a real row, so a refused claim leaves
no holder behind and recalcquota can check the holders. A release gives the
holder's claims back and deletes the holder, in one transaction, as deleting a
resource will.
"""

import uuid

from apps.core.tests.racers import RaceResult, Racers, serve


def claim_job(project_id, amounts):
    return {"op": "claim", "project": str(project_id), "amounts": amounts}


def release_job(holder_id):
    return {"op": "release", "holder": str(holder_id)}


def recalculate_job(fix):
    return {"op": "recalculate", "fix": fix}


def delete_project_job(project_id):
    return {"op": "delete_project", "project": str(project_id)}


def set_domain_limit_job(domain_id, limit):
    return {"op": "set_domain_limit", "domain": str(domain_id), "limit": limit}


class QuotaRaceResult(RaceResult):
    @property
    def refusals(self):
        return [o for o in self.outcomes if o.get("code") == "quota_exceeded"]

    @property
    def unexpected(self):
        return [o for o in self.outcomes if not o["ok"] and o.get("code") != "quota_exceeded"]

    @property
    def holders(self):
        return [o["holder"] for o in self.successes if "holder" in o]


def quota_racers(count, url):
    """`count` racers taking the jobs above; use as a context manager."""
    return Racers(count, url, __name__, result=QuotaRaceResult)


def _prepare(job):
    """Load what the job needs before the gate, so only the claim or release itself races."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from apps.core.actor import Actor
    from apps.identity.models import Domain, Project, User
    from apps.identity.services.projects import delete_project
    from apps.quotas import recalc, services

    # Racers outlive a test's database flush, which gives the content types new ids.
    ContentType.objects.clear_cache()

    if job["op"] == "claim":
        project = Project.objects.get(pk=job["project"])

        def claim():
            with transaction.atomic():
                holder = User.objects.create(
                    username=f"racer-{uuid.uuid4().hex}", domain_id=project.domain_id
                )
                services.claim(project, job["amounts"], holder)
            return {"ok": True, "holder": str(holder.pk)}

        return claim

    if job["op"] == "delete_project":
        project = Project.objects.get(pk=job["project"])

        def delete():
            delete_project(Actor.system(), project)
            return {"ok": True}

        return delete

    if job["op"] == "set_domain_limit":
        domain = Domain.objects.get(pk=job["domain"])

        def set_limit():
            services.set_limit(Actor.system(), domain, "instances", job["limit"])
            return {"ok": True}

        return set_limit

    if job["op"] == "recalculate":

        def recalculate():
            found = recalc.recalculate(fix=job["fix"])
            return {"ok": True, "drifts": len(found.drifts), "orphans": len(found.orphans)}

        return recalculate

    holder = User(pk=uuid.UUID(job["holder"]))

    def release():
        with transaction.atomic():
            released = services.release(holder)
            User.objects.filter(pk=holder.pk).delete()
        return {"ok": True, "released": released}

    return release


if __name__ == "__main__":
    serve(_prepare)
