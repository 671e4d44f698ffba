"""A test-only URLconf: the API plus an upload view that reads its body through apikeys.streaming."""

import hashlib

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.identity.apikeys.streaming import request_body

CHUNK_BYTES = 64 * 1024


class StreamedUploadView(APIView):
    streams_request_body = True

    def put(self, request):
        # Authentication must have left the body unread: nothing buffered it.
        body_was_unread = not hasattr(request._request, "_body")
        body = request_body(request)
        digest, chunks = hashlib.sha256(), 0
        while chunk := body.read(CHUNK_BYTES):
            digest.update(chunk)
            chunks += 1
        return Response({"sha256": digest.hexdigest(), "chunks": chunks, "body_was_unread": body_was_unread})


urlpatterns = [
    path("api/v1/", include(("cloudmgr.api_urls", "api"))),
    path("test/upload/", StreamedUploadView.as_view()),
]
