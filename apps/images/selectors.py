"""Which images a principal may see.

A principal sees every image of the projects where it may read images (any
status), and, from other projects, active images that are public or shared
with one of those projects. A share shows in lists once the member project
accepted it; a pending one is reachable by id so the project can decide.
"""

from django.db.models import Count, Exists, OuterRef, Q, Sum

from apps.core.policy import SystemPrincipal
from apps.core.scoping import visible
from apps.identity.models import Project

from .models import Image, ImageMember
from .stores import get_store, store_names

READ = "images.image.read"
DETAIL_SHARES = (ImageMember.PENDING, ImageMember.ACCEPTED)
LISTED_SHARES = (ImageMember.ACCEPTED,)


def _own(principal):
    return visible(
        Image.objects.all(), principal, READ, domain_path="owner__domain__path", project="owner_id"
    )


def member_projects(principal):
    """Projects on whose behalf the principal sees images shared with them."""
    return visible(Project.objects.all(), principal, READ, project="id")


def images_for(principal, shares=DETAIL_SHARES):
    queryset = Image.objects.select_related("owner__domain")
    if isinstance(principal, SystemPrincipal):
        return queryset
    shared_with_us = ImageMember.objects.filter(
        image=OuterRef("pk"), project__in=member_projects(principal), status__in=shares
    )
    others = Q(status=Image.ACTIVE) & (
        Q(visibility=Image.PUBLIC) | (Q(visibility=Image.SHARED) & Exists(shared_with_us))
    )
    return queryset.filter(Q(pk__in=_own(principal).values("pk")) | others)


def owned_by_principal(principal, image):
    """True when the principal reads the image as its owner's member, not through a share."""
    return isinstance(principal, SystemPrincipal) or _own(principal).filter(pk=image.pk).exists()


def members_for(principal, image):
    """The owner side sees every member (by project id: the project may not exist, or be another
    tenant's); a member project sees only its own membership."""
    members = image.members.all()
    if owned_by_principal(principal, image):
        return members
    return members.filter(project__in=member_projects(principal))


def store_usage():
    """Per store: the images whose data it holds, their bytes, and the space left where it can tell."""
    held = (
        Image.objects.filter(status__in=(Image.ACTIVE, Image.PENDING_DELETE))
        .values("store")
        .annotate(images=Count("pk"), size_bytes=Sum("size_bytes"))
    )
    counted = {row["store"]: row for row in held}
    usage = []
    for name in store_names():
        row = counted.get(name, {})
        usage.append(
            {
                "name": name,
                "images": row.get("images", 0),
                "size_bytes": row.get("size_bytes") or 0,
                "disk": get_store(name).disk_usage(),
            }
        )
    return usage
