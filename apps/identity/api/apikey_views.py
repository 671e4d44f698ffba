"""/api/v1/api-keys/: create (the secret is in the response, once), list, rename, disable, delete."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.core.api.views import ServiceViewSet

from .. import selectors
from ..apikeys.selectors import api_keys_for
from ..services import apikeys
from . import apikey_serializers as s


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.ApiKeySerializer
    update_serializer_class = s.ApiKeyUpdateSerializer
    filterset_fields = ["user", "project", "enabled"]

    def get_queryset(self):
        return api_keys_for(self.principal)

    @extend_schema(responses={201: s.ApiKeyCreatedSerializer})
    def create(self, request):
        data = self.validated()
        project = selectors.get_or_404(
            selectors.projects_for(self.principal), "project", pk=data["project_id"]
        )
        key, secret = apikeys.create_api_key(self.actor, project=project, name=data.get("name", ""))
        body = s.ApiKeySerializer(key).data
        body["secret"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ApiKeySerializer})
    def partial_update(self, request, pk=None):
        key = apikeys.update_api_key(self.actor, self.get_object(), **self.validated(partial=True))
        return Response(s.ApiKeySerializer(key).data)

    def destroy(self, request, pk=None):
        apikeys.delete_api_key(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
