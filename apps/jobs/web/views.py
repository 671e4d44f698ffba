"""A job's progress: a page for one job, and the fragment its component polls until the job finishes."""

import json

from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.rendering import render_page
from apps.jobs.selectors import jobs_for


def _job(request, job_id):
    return get_or_404(jobs_for(request.actor.principal), "job", pk=job_id)


@require_GET
@portal_view
def job_detail(request, job_id):
    return render_page(request, "jobs/detail.html", {"job": _job(request, job_id)})


@require_GET
@portal_view
def job_progress(request, job_id):
    """The polled fragment; the answer that finds the job finished tells the page (`job-finished`)."""
    job = _job(request, job_id)
    response = render(request, "jobs/progress_body.html", {"job": job})
    if job.finished:
        response["HX-Trigger"] = json.dumps({"job-finished": {"job": str(job.pk), "state": job.state}})
    return response
