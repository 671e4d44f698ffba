"""Warming hosts' image caches from the admin portal: a section of the admin image page, and its form.

Cloud administrators choose hosts that are up; each gets a prefetch job
(apps/compute/prefetch.py), whose progress the section then shows.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from agent import protocol
from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import performed
from apps.core.web.sections import register_section
from apps.images.models import Image
from apps.images.selectors import images_for
from apps.images.web.views import ADMIN_IMAGE_PAGE
from apps.infrastructure.models import Host
from apps.infrastructure.selectors import hosts_for
from apps.jobs.selectors import jobs_for

from ..prefetch import PREFETCH, PREFETCH_JOB, prefetch_image

JOBS_SHOWN = 20


class PrefetchForm(forms.Form):
    hosts = forms.ModelMultipleChoiceField(
        queryset=Host.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one host."},
    )

    def __init__(self, principal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hosts"].queryset = hosts_for(principal).filter(state=Host.UP).order_by("name")


def _may_prefetch(request):
    return request.actor.can(PREFETCH, PLATFORM)


def prefetch_section(request, image):
    """The hosts to warm and the image's latest prefetch jobs; only for cloud administrators."""
    if not _may_prefetch(request):
        return None
    jobs = jobs_for(request.actor.principal).filter(kind=PREFETCH_JOB, object_id=str(image.pk))
    latest = list(jobs.order_by("-created_at")[:JOBS_SHOWN])
    return {
        "form": PrefetchForm(request.actor.principal) if image.status == Image.ACTIVE else None,
        "action": reverse("compute:image-prefetch", args=[image.pk]),
        "jobs": [(job, protocol.host_of_queue(job.queue)) for job in latest],
    }


@require_http_methods(["GET", "POST"])
@portal_view(admin=True)
def image_prefetch(request, image_id):
    image = get_or_404(images_for(request.actor.principal), "image", pk=image_id)
    page = reverse("images:admin-image-detail", args=[image.pk])
    if request.method == "GET":
        return redirect(page)
    back = page + "#section-prefetch"
    form = PrefetchForm(request.actor.principal, request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["hosts"]))
        return redirect(back)
    hosts = list(form.cleaned_data["hosts"])
    names = ", ".join(host.name for host in hosts)
    return performed(
        request,
        lambda: prefetch_image(request.actor, image, hosts),
        done=back,
        kept=back,
        message=f"Fetching {image.name} into the cache of {names}: the progress shows below.",
    )


def register():
    register_section(
        ADMIN_IMAGE_PAGE,
        "prefetch",
        title="Hosts' caches",
        template="compute/admin/image_prefetch.html",
        context=prefetch_section,
        order=10,
    )
