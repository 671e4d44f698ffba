"""GET an image's bytes at the agents' path: for a host whose instances use it, or as the image API allows.

The agent fetches images into its cache from `protocol.image_data_path()`. A
request signed by a host sees only the images that host's instances need; any
other request is authenticated and judged like `GET /api/v1/images/{id}/file`,
whose handler (ranges, ETag, streaming, integrity check) serves both. Only
reading is offered here: uploads go through the image API.
"""

from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apps.identity.actor import Actor
from apps.identity.selectors import get_or_404
from apps.images.api.file_views import ImageFileView
from apps.images.models import Image
from apps.images.selectors import images_for

from . import hooks
from .authentication import HostPrincipal, HostSignatureAuthentication


class AgentImageDataView(APIView):
    authentication_classes = [HostSignatureAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]

    def _image(self, request, image_id):
        if isinstance(request.auth, HostPrincipal):
            host = request.auth.host
            image = get_or_404(Image.objects.filter(hooks.readable_images(host)), "image", pk=image_id)
            return Actor.system(f"agent:{host.name}"), image
        actor = Actor.from_request(request)
        return actor, get_or_404(images_for(actor.principal), "image", pk=image_id)

    def get(self, request, image_id):
        # The image API's reading, with this view's idea of which image the caller may read (_image).
        return ImageFileView.get(self, request, image_id)
