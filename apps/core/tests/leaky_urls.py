"""A URL configuration with a deliberately leaky route, used only to prove the isolation test bites.

`leaky:project-detail` shows and changes any project, whoever asks (its queryset
is not scoped), and `leaky/unregistered/<int:pk>/` has no isolation entry.
The real API is mounted too, so logging in works as usual.
"""

from django.http import HttpResponse
from django.urls import include, path
from rest_framework import mixins, viewsets
from rest_framework.routers import SimpleRouter

from apps.identity.api.serializers import ProjectSerializer
from apps.identity.models import Project


class LeakyProjectViewSet(mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = Project.objects.select_related("domain")
    serializer_class = ProjectSerializer


def unregistered(request, pk):
    return HttpResponse(str(pk))


router = SimpleRouter()
router.register("projects", LeakyProjectViewSet, basename="project")

urlpatterns = [
    path("api/v1/", include(("cloudmgr.api_urls", "api"), namespace="api")),
    path("leaky/", include((router.urls, "leaky"), namespace="leaky")),
    path("leaky/unregistered/<int:pk>/", unregistered),
]
