"""GET /api/v1/: the API's root, listing each resource collection and where the schema and docs are."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class ApiRootView(APIView):
    """Answers without authentication: it names the resources, never what they hold."""

    permission_classes = [AllowAny]
    authentication_classes = []
    # The resource collections, by name -> URL name; set by cloudmgr.api_urls from its router.
    resources = {}

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot",
            {
                "resources": serializers.DictField(child=serializers.URLField()),
                "schema": serializers.URLField(),
                "docs": serializers.URLField(),
            },
        )
    )
    def get(self, request):
        def url(name):
            return reverse(f"api:{name}", request=request)

        return Response(
            {
                "resources": {prefix: url(name) for prefix, name in self.resources.items()},
                "schema": url("schema"),
                "docs": url("docs"),
            }
        )
