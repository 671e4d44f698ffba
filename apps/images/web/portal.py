"""What the images app adds to the portal: navigation entries and overview cards."""

from django.db.models import Count, Sum
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from apps.core.tree import PLATFORM
from apps.core.web.extensions import ADMIN, DASHBOARD, register_card, register_nav

from .. import selectors
from ..models import Image


def _counts(images):
    return dict(images.values_list("status").annotate(n=Count("pk")))


def admin_card(request, project):
    counts = _counts(selectors.images_for(request.actor.principal))
    rows = [
        ("Active", counts.get(Image.ACTIVE, 0)),
        ("Waiting for data", counts.get(Image.QUEUED, 0) + counts.get(Image.SAVING, 0)),
        ("Pending deletion", counts.get(Image.PENDING_DELETE, 0)),
        ("Killed", counts.get(Image.KILLED, 0)),
    ]
    if request.actor.can("images.store.read", PLATFORM):
        rows += [(f"Store {s['name']}", filesizeformat(s["size_bytes"])) for s in selectors.store_usage()]
    return {"rows": rows, "link": ("All images", reverse("images:admin-image-list"))}


def dashboard_card(request, project):
    own = Image.objects.filter(owner=project).exclude(status=Image.DELETED)
    stored = own.filter(status__in=(Image.ACTIVE, Image.PENDING_DELETE)).aggregate(total=Sum("size_bytes"))
    return {
        "rows": [("Images", own.count()), ("Stored", filesizeformat(stored["total"] or 0))],
        "link": ("Images", reverse("images:image-list", args=[project.pk])),
    }


def register():
    register_nav(DASHBOARD, "Images", "images:image-list", order=30)
    register_nav(ADMIN, "Images", "images:admin-image-list", order=50)
    register_card(ADMIN, "images", title="Images", context=admin_card, order=40)
    register_card(DASHBOARD, "images", title="Images", context=dashboard_card, order=30)
