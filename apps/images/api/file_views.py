"""`/api/v1/images/{id}/file`: stream an image's data out (with Range) and in, never buffering it.

The view never parses the body (no parser classes, `streams_request_body`):
the upload is read from the WSGI input chunk by chunk, and an API-key request
that signed the body's SHA-256 is checked while it streams.

Authentication is the API's own list plus whatever is added to
`ImageFileView.authentication_classes`: the compute app's signed host
identity plugs in there, and the host principal it returns is judged by the
same selector (`images_for`) and service checks as a tenant.
"""

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.actor import Actor
from apps.core.api.exceptions import envelope
from apps.core.errors import ServiceError
from apps.core.scoping import get_or_404
from apps.identity.apikeys.streaming import request_body

from .. import selectors
from ..models import Image
from ..services import data
from .ranges import RangeNotSatisfiable, requested_range
from .serializers import ImageSerializer

NO_DATA = (Image.QUEUED, Image.SAVING, Image.KILLED, Image.DELETED)


class LengthRequired(ServiceError):
    status = 411
    code = "length_required"


def content_length(request):
    value = request.META.get("CONTENT_LENGTH") or ""
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() or not value.isdigit():
        raise LengthRequired("Send the image with a Content-Length header (no chunked encoding).")
    return int(value)


def _data_headers(image, start, length):
    headers = {
        "Content-Length": str(length),
        "Accept-Ranges": "bytes",
        "ETag": f'"{image.sha256}"',
        "X-Image-Sha256": image.sha256,
        "Content-Disposition": f'attachment; filename="{image.pk}.{image.disk_format}"',
    }
    if (start, length) != (0, image.size_bytes):
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{image.size_bytes}"
    return headers


class ImageFileView(APIView):
    streams_request_body = True
    parser_classes = []

    def _image(self, request, image_id):
        actor = Actor.from_request(request)
        return actor, get_or_404(selectors.images_for(actor.principal), "image", pk=image_id)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The whole image"),
            (206, "application/octet-stream"): OpenApiResponse(description="The requested range"),
            204: OpenApiResponse(description="The image has no data (yet)"),
            416: OpenApiResponse(description="The range is outside the image"),
        }
    )
    def get(self, request, image_id):
        actor, image = self._image(request, image_id)
        if image.status in NO_DATA:
            return HttpResponse(status=204)
        data.check_readable(actor, image)
        etag = f'"{image.sha256}"'
        try:
            wanted = requested_range(
                request.META.get("HTTP_RANGE"),
                image.size_bytes,
                if_range=request.META.get("HTTP_IF_RANGE"),
                etag=etag,
            )
        except RangeNotSatisfiable as error:
            return envelope(
                error.code,
                error.message,
                error.details,
                416,
                {"Content-Range": f"bytes */{image.size_bytes}"},
            )
        start, length = wanted or (0, image.size_bytes)
        status = 200 if wanted is None else 206
        if request.method == "HEAD":
            response = HttpResponse(status=status, content_type="application/octet-stream")
        else:
            chunks = data.open_data(actor, image, start, length)
            response = StreamingHttpResponse(chunks, status=status, content_type="application/octet-stream")
        for name, value in _data_headers(image, start, length).items():
            response[name] = value
        return response

    @extend_schema(
        request={"application/octet-stream": {"type": "string", "format": "binary"}},
        responses={200: ImageSerializer},
    )
    def put(self, request, image_id):
        actor, image = self._image(request, image_id)
        length = content_length(request)
        image = data.upload(actor, image, request_body(request).read, length)
        return Response(ImageSerializer(image).data)
