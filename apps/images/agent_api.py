"""An image's bytes at the agents' path: read by a host whose instances use it (or as the image API
allows), written by a host taking a snapshot of its own instance.

The agent fetches images into its cache from `protocol.image_data_path()`. A
request signed by a host sees only the images that host's instances need; any
other request is authenticated and judged like `GET /api/v1/images/{id}/file`,
whose handler (ranges, ETag, streaming, integrity check) serves both.

A PUT must be signed by a host, about an image that host may write (a snapshot
of one of its instances, still being taken): the body is streamed into the
image store, checked against its signed SHA-256 and inspected like any upload.

Mounted in the agents' endpoint beside the infrastructure app's routes (cloudmgr/agent_urls.py).
"""

from django.urls import path
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apps.core.actor import Actor
from apps.core.errors import NotAuthenticated
from apps.core.policy import SystemPrincipal
from apps.core.scoping import get_or_404
from apps.identity.apikeys.streaming import request_body
from apps.infrastructure.agent_api.authentication import HostPrincipal, HostSignatureAuthentication

from .api.file_views import ImageFileView, content_length
from .host_access import readable_images, writable_images
from .models import Image
from .selectors import images_for
from .services.snapshots import receive_snapshot_data


def _host_actor(request, host):
    # The system, acting for the host: its name goes where a command line records the OS account
    # (the audit's interface column is too short for "agent:<host name>").
    return Actor(SystemPrincipal(), getattr(request, "client_address", ""), "agent", host.name)


class AgentImageDataView(APIView):
    streams_request_body = True
    authentication_classes = [HostSignatureAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]

    def _image(self, request, image_id):
        if isinstance(request.auth, HostPrincipal):
            host = request.auth.host
            image = get_or_404(Image.objects.filter(readable_images(host)), "image", pk=image_id)
            return _host_actor(request, host), image
        actor = Actor.from_request(request)
        return actor, get_or_404(images_for(actor.principal), "image", pk=image_id)

    def get(self, request, image_id):
        # The image API's reading, with this view's idea of which image the caller may read (_image).
        return ImageFileView.get(self, request, image_id)

    def put(self, request, image_id):
        if not isinstance(request.auth, HostPrincipal):
            raise NotAuthenticated("Only a host uploads here, with a signed request.", code="agent_unsigned")
        host = request.auth.host
        image = get_or_404(Image.objects.filter(writable_images(host)), "image", pk=image_id)
        length = content_length(request)
        image = receive_snapshot_data(_host_actor(request, host), image, request_body(request).read, length)
        return Response({"id": str(image.pk), "status": image.status, "sha256": image.sha256})


urlpatterns = [path("images/<uuid:image_id>/data", AgentImageDataView.as_view(), name="image-data")]
