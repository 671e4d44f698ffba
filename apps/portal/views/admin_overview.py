"""Admin portal: the cloud overview, made of cards that the portal and other apps register."""

from django.views.decorators.http import require_GET

from apps.core.web import extensions
from apps.core.web.decorators import portal_view
from apps.core.web.rendering import render_page


@require_GET
@portal_view(admin=True)
def overview(request):
    cards = extensions.cards(extensions.ADMIN, request)
    return render_page(request, "portal/admin/overview.html", {"cards": cards}, area="admin")
