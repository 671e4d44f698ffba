"""Portal pages of images: a project's images in the dashboard, every image in the admin portal.

Pages call the same services as the API. The browser upload creates the
image and streams the file through the REST API (static/images/upload.js),
so the page never holds the data either.
"""

from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import ValidationFailed
from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import Confirmation, confirmed, handled, local_target, performed
from apps.core.web.frame import dashboard_project
from apps.core.web.listing import Column, Listing
from apps.core.web.rendering import render_page
from apps.core.web.sections import page_sections
from apps.identity.selectors import projects_for
from apps.identity.web.selectors import project_labels
from apps.jobs.selectors import jobs_for

from .. import selectors
from ..models import Image, ImageMember
from ..services import data, records, sharing
from ..services.data import IMPORT_JOB
from .forms import ImportForm, MoveForm, ShareForm, UploadForm

admin_view = portal_view(admin=True)
# The admin image page, where other apps add sections (compute: warming hosts' caches).
ADMIN_IMAGE_PAGE = "images:admin-image"


def _detail_url(project, image):
    return reverse("images:image-detail", args=[project.pk, image.pk])


def _latest_import(request, image):
    jobs = jobs_for(request.actor.principal).filter(kind=IMPORT_JOB, object_id=str(image.pk))
    return jobs.order_by("-created_at").first()


@require_GET
@portal_view
def image_list(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    return _render_list(request, project, scoped)


def _render_list(request, project, scoped, import_form=None):
    images = (
        selectors.images_for(scoped, shares=(ImageMember.ACCEPTED,))
        .exclude(status__in=(Image.DELETED, Image.PENDING_DELETE))
        .order_by("name")
    )
    restorable = Image.objects.filter(owner=project, status=Image.PENDING_DELETE).order_by("purge_after")
    pending = ImageMember.objects.filter(
        project=project,
        status=ImageMember.PENDING,
        image__status=Image.ACTIVE,
        image__visibility=Image.SHARED,
    ).select_related("image__owner")
    can_create = request.actor.can("images.image.create", project.target())
    context = {
        "images": images,
        "restorable": restorable,
        "can_restore": request.actor.can("images.image.restore", project.target()),
        "pending_shares": pending,
        "can_create": can_create,
        "upload_form": UploadForm(prefix="upload") if can_create else None,
        "import_form": (import_form or ImportForm(prefix="import")) if can_create else None,
    }
    return render_page(request, "images/dashboard/list.html", context, area="dashboard", project=project)


@require_http_methods(["GET", "POST"])
@portal_view
def image_import(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    form = ImportForm(request.POST, prefix="import")
    return handled(
        request,
        form,
        lambda values: data.create_and_import(
            request.actor, owner=project, url=values["url"], **form.image_fields()
        )[0],
        done=lambda image: _detail_url(project, image),
        message=lambda image: f"Importing {image.name}: the progress shows below.",
        failed=lambda form: _render_list(request, project, scoped, form),
        page=reverse("images:image-list", args=[project.pk]),
    )


@require_GET
@portal_view
def image_detail(request, project_id, image_id):
    project, scoped = dashboard_project(request, project_id)
    image = get_or_404(selectors.images_for(scoped), "image", pk=image_id)
    owned = image.owner_id == project.pk
    context = {
        "image": image,
        "owned": owned,
        "job": _latest_import(request, image),
        "members": image.members.all() if owned else image.members.filter(project=project),
        "share_form": ShareForm() if owned and image.visibility == Image.SHARED else None,
        "download_url": reverse("api:image-file", kwargs={"image_id": image.pk}),
    }
    return render_page(request, "images/dashboard/detail.html", context, area="dashboard", project=project)


def _shared_project(request):
    """The id of the project to share with or stop sharing with: never looked up (sharing.py)."""
    form = ShareForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed("Give the id of a project.")
    return form.cleaned_data["project"]


def deleted_message(image):
    """What deleting did: an image with data waits, restorable, until it is purged."""
    if image.status == Image.PENDING_DELETE:
        until = timezone.localtime(image.purge_after).strftime("%Y-%m-%d %H:%M %Z")
        return f"Image {image.name} deleted; it can be restored until {until}, when it is purged."
    return f"Image {image.name} deleted."


def _delete_confirmation(image, cancel):
    if image.status == Image.ACTIVE:
        consequences = (
            f"Image {image.name} can no longer be launched or downloaded; instances already running from"
            " it keep running.",
            "It can be restored until it is purged, after the retention period; then its data is gone.",
        )
    else:
        consequences = (f"Image {image.name} holds no usable data: it is deleted at once, for good.",)
    return Confirmation(
        title=f"Delete image {image.name}?",
        button=f"Delete {image.name}",
        consequences=consequences,
        cancel=cancel,
    )


def _deleted(request, image, detail, **frame):
    """GET: what deleting `image` does; POST: delete it (kept restorable when it has data)."""
    return confirmed(
        request,
        _delete_confirmation(image, detail),
        lambda: records.delete_image(request.actor, image),
        done=detail,
        kept=detail,
        message=deleted_message,
        **frame,
    )


@require_http_methods(["GET", "POST"])
@portal_view
def image_delete(request, project_id, image_id):
    project, scoped = dashboard_project(request, project_id)
    image = get_or_404(selectors.images_for(scoped), "image", pk=image_id)
    return _deleted(request, image, _detail_url(project, image), area="dashboard", project=project)


DASHBOARD_OPERATIONS = {
    "restore": (
        lambda image: f"Image {image.name} restored.",
        lambda r, p, i: records.restore_image(r.actor, i),
    ),
    "accept": (
        "Accepted: the image is now listed here.",
        lambda r, p, i: sharing.answer(r.actor, i, p, "accepted"),
    ),
    "reject": ("Rejected.", lambda r, p, i: sharing.answer(r.actor, i, p, "rejected")),
    "share": (
        "Shared; the project must accept it.",
        lambda r, p, i: sharing.share(r.actor, i, _shared_project(r)),
    ),
    "unshare": (
        "No longer shared with that project.",
        lambda r, p, i: sharing.unshare(r.actor, i, _shared_project(r)),
    ),
}


@require_POST
@portal_view
def image_action(request, project_id, image_id):
    project, scoped = dashboard_project(request, project_id)
    image = get_or_404(selectors.images_for(scoped), "image", pk=image_id)
    # The images list restores from its own page, and goes back there.
    back = local_target(request, request.POST.get("back"), _detail_url(project, image))
    return _operate(request, DASHBOARD_OPERATIONS, request.POST.get("op"), (request, project, image), back)


def _operate(request, operations, name, arguments, done):
    """Run one named operation of a page; a refusal other than a permission becomes a message."""
    if name not in operations:
        raise ValidationFailed(f"Unknown operation {name!r}.")
    message, operation = operations[name]
    return performed(request, lambda: operation(*arguments), done=done, kept=done, message=message)


def _admin_columns(sees_every_owner):
    """The list's columns. Only who sees every project sorts by project: for a domain admin, where a
    public image of another tenant sorted would hint at the name of its project."""
    project = ("owner__domain__path", "owner__name") if sees_every_owner else ()
    return (
        Column("name", "Name", ("name",)),
        Column("project", "Project", project),
        Column("status", "Status", ("status",)),
        Column("format", "Format", ("disk_format",)),
        Column("size", "Size", ("size_bytes",)),
        Column("flags", "Flags"),
    )


@require_GET
@admin_view
def admin_image_list(request):
    principal = request.actor.principal
    images = selectors.images_for(principal)
    for field in ("status", "visibility"):
        if request.GET.get(field):
            images = images.filter(**{field: request.GET[field]})
    # Searching by a project's name, likewise, only for who sees every project.
    sees_every_owner = request.actor.can("identity.project.read", PLATFORM)
    searched = ("name", "owner__name") if sees_every_owner else ("name",)
    listing = Listing(
        request, images, columns=_admin_columns(sees_every_owner), default="name", search=searched
    )
    context = {
        "listing": listing,
        "rows": _with_owner_labels(principal, listing.rows),
        "statuses": [s for s, _ in Image.STATUSES],
        "visibilities": [v for v, _ in Image.VISIBILITIES],
        "stores": selectors.store_usage() if request.actor.can("images.store.read", PLATFORM) else None,
    }
    return render_page(request, "images/admin/list.html", context, area="admin")


@require_GET
@admin_view
def admin_image_detail(request, image_id):
    image = _admin_image(request, image_id)
    context = {
        "image": image,
        "job": _latest_import(request, image),
        "members": _members_as_seen_by(request.actor.principal, image),
        "move_form": MoveForm(request.actor.principal),
        "can_publish": request.actor.can("images.image.publicize", PLATFORM),
        "sections": page_sections(ADMIN_IMAGE_PAGE, request, image),
    }
    return render_page(request, "images/admin/detail.html", context, area="admin")


def _with_owner_labels(principal, images):
    """[(image, its project by domain path)]; a public image of a project the admin does not
    administer names no project."""
    owners = {image.owner_id: image.owner for image in images}
    visible = set(projects_for(principal).filter(pk__in=list(owners)).values_list("pk", flat=True))
    labels = project_labels(principal, [owners[pk] for pk in visible])
    return [(image, labels.get(image.owner_id, "")) for image in images]


def _members_as_seen_by(principal, image):
    """(member, project name) pairs: the name only of a project the admin may see, else None."""
    members = list(image.members.all())
    names = dict(
        projects_for(principal).filter(pk__in=[m.project_id for m in members]).values_list("pk", "name")
    )
    return [(member, names.get(member.project_id)) for member in members]


def _moved(request, image):
    form = MoveForm(request.actor.principal, request.POST)
    if not form.is_valid():
        raise ValidationFailed("Choose a project to move the image to.")
    return records.move_image(request.actor, image, form.cleaned_data["project"])


ADMIN_OPERATIONS = {
    "publish": (
        "Public: every project sees it.",
        lambda r, i: records.update_image(r.actor, i, visibility="public"),
    ),
    "unpublish": ("Private again.", lambda r, i: records.update_image(r.actor, i, visibility="private")),
    "protect": ("Protected from deletion.", lambda r, i: records.update_image(r.actor, i, protected=True)),
    "unprotect": ("No longer protected.", lambda r, i: records.update_image(r.actor, i, protected=False)),
    "deactivate": ("Deactivated.", lambda r, i: records.set_deactivated(r.actor, i, True)),
    "reactivate": ("Reactivated.", lambda r, i: records.set_deactivated(r.actor, i, False)),
    "move": ("Moved.", _moved),
    "restore": ("Restored.", lambda r, i: records.restore_image(r.actor, i)),
}


def _admin_image(request, image_id):
    return get_or_404(selectors.images_for(request.actor.principal), "image", pk=image_id)


@require_http_methods(["GET", "POST"])
@admin_view
def admin_image_delete(request, image_id):
    image = _admin_image(request, image_id)
    return _deleted(request, image, reverse("images:admin-image-detail", args=[image.pk]), area="admin")


@require_http_methods(["GET", "POST"])
@admin_view
def admin_image_purge(request, image_id):
    image = _admin_image(request, image_id)
    detail = reverse("images:admin-image-detail", args=[image.pk])
    confirmation = Confirmation(
        title=f"Purge image {image.name} now?",
        button=f"Purge {image.name}",
        consequences=(
            f"The data of {image.name} is removed from its store now, instead of after the retention"
            " period: it can no longer be restored.",
            "Its storage quota is given back to its project.",
        ),
        cancel=detail,
    )
    return confirmed(
        request,
        confirmation,
        lambda: records.purge_image(request.actor, image),
        done=detail,
        kept=detail,
        message=f"Image {image.name} purged: its data is gone.",
        area="admin",
    )


@require_POST
@admin_view
def admin_image_action(request, image_id):
    image = _admin_image(request, image_id)
    done = reverse("images:admin-image-detail", args=[image.pk])
    return _operate(request, ADMIN_OPERATIONS, request.POST.get("op"), (request, image), done)
