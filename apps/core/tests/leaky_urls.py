"""A URL configuration with deliberately leaky routes, used only to prove the isolation test bites.

`leaky:project-detail` (an API route) and `leaky:project-page` (a web page
taking a form) show and change any project, whoever asks: nothing is scoped.
`leaky/unregistered/<int:pk>/` has no isolation entry. `leaky:filtered-project-list`
lists only the caller's projects, but its `?domain=` filter is django-filter's
default, which looks the id up among every domain. The real API is mounted too,
so logging in works as usual.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path
from django.views.decorators.http import require_http_methods
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, viewsets
from rest_framework.routers import SimpleRouter

from apps.core.api.views import ServiceViewSet
from apps.identity.api.serializers import ProjectSerializer
from apps.identity.models import Project
from apps.identity.selectors import projects_for


class LeakyProjectViewSet(mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = Project.objects.select_related("domain")
    serializer_class = ProjectSerializer


class LeakyFilterProjectViewSet(mixins.ListModelMixin, ServiceViewSet):
    serializer_class = ProjectSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["domain"]

    def get_queryset(self):
        return projects_for(self.principal)


@require_http_methods(["GET", "POST"])
def leaky_project_page(request, project_id):
    project = get_object_or_404(Project, pk=project_id)
    if request.method == "POST":
        project.description = request.POST["description"]
        project.save(update_fields=["description"])
    return HttpResponse(f"<h1>{project.name}</h1><p>{project.description}</p>")


def unregistered(request, pk):
    return HttpResponse(str(pk))


router = SimpleRouter()
router.register("projects", LeakyProjectViewSet, basename="project")
router.register("filtered-projects", LeakyFilterProjectViewSet, basename="filtered-project")

urlpatterns = [
    path("api/v1/", include(("cloudmgr.api_urls", "api"), namespace="api")),
    path("leaky/", include((router.urls, "leaky"), namespace="leaky")),
    path("leaky/pages/<uuid:project_id>/", leaky_project_page, name="leaky-project-page"),
    path("leaky/unregistered/<int:pk>/", unregistered),
]
