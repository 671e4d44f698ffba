"""Base view classes: the actor of the request, and read/write serializers."""

from rest_framework import viewsets

from apps.core.actor import Actor


class ServiceViewSet(viewsets.GenericViewSet):
    """A viewset whose writes go through services with `self.actor`, and whose reads are scoped."""

    write_serializer_class = None
    update_serializer_class = None

    @property
    def actor(self):
        return Actor.from_request(self.request)

    @property
    def principal(self):
        return self.actor.principal

    def get_serializer_class(self):
        if self.action == "create" and self.write_serializer_class:
            return self.write_serializer_class
        if self.action in ("update", "partial_update") and self.update_serializer_class:
            return self.update_serializer_class
        return super().get_serializer_class()

    def validated(self, serializer_class=None, partial=False):
        serializer = (serializer_class or self.get_serializer_class())(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
