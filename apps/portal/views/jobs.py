"""A job's progress: a page for one job, and the fragment its component polls until the job finishes."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.identity.selectors import get_or_404
from apps.jobs.selectors import jobs_for

from ..decorators import portal_view
from ..rendering import render_page


def _job(request, job_id):
    return get_or_404(jobs_for(request.actor.principal), "job", pk=job_id)


@require_GET
@portal_view
def job_detail(request, job_id):
    return render_page(request, "portal/jobs/detail.html", {"job": _job(request, job_id)})


@require_GET
@portal_view
def job_progress(request, job_id):
    return render(request, "portal/jobs/progress.html", {"job": _job(request, job_id)})
