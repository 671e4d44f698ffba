"""What jobs add to the portal: the admin overview's card of waiting and running jobs."""

from django.db.models import Count

from apps.core.web.extensions import ADMIN, register_card

from ..models import Job
from ..selectors import jobs_for


def jobs_card(request, project):
    counts = dict(
        jobs_for(request.actor.principal)
        .filter(state__in=[Job.PENDING, Job.RUNNING])
        .values_list("state")
        .annotate(n=Count("id"))
    )
    return {"rows": [("Waiting", counts.get(Job.PENDING, 0)), ("Running", counts.get(Job.RUNNING, 0))]}


def register():
    register_card(ADMIN, "jobs", title="Jobs", context=jobs_card, order=50)
