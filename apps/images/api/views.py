"""Images API: records, sharing, operator actions. The data itself is in file_views.py."""

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.filters import FilterSet
from apps.core.api.views import ServiceViewSet
from apps.core.errors import ValidationFailed
from apps.core.scoping import get_or_404
from apps.identity.selectors import projects_for
from apps.jobs.api.views import JobSerializer

from .. import selectors
from ..models import Image, ImageMember
from ..services import data, records, sharing
from . import serializers as s

MEMBER_STATUSES = ("accepted", "pending", "rejected", "all")


class ImageFilter(FilterSet):
    owner = django_filters.UUIDFilter(field_name="owner_id")

    class Meta:
        model = Image
        fields = ["status", "visibility", "disk_format", "container_format", "owner", "name", "protected"]


class ImageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.ImageSerializer
    write_serializer_class = s.ImageCreateSerializer
    update_serializer_class = s.ImageUpdateSerializer
    filterset_class = ImageFilter

    def get_queryset(self):
        if self.action != "list":
            return selectors.images_for(self.principal)
        member_status = self.request.query_params.get("member_status", "accepted")
        if member_status not in MEMBER_STATUSES:
            raise ValidationFailed(f"member_status is one of {', '.join(MEMBER_STATUSES)}.")
        shares = [v for v, _ in ImageMember.STATUSES] if member_status == "all" else [member_status]
        images = selectors.images_for(self.principal, shares=shares)
        if "status" not in self.request.query_params:
            images = images.exclude(status=Image.DELETED)
        return images

    @extend_schema(parameters=[OpenApiParameter("member_status", enum=MEMBER_STATUSES)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _image_ref(self, image_id):
        if image_id is None:
            return None
        return get_or_404(selectors.images_for(self.principal), "image", pk=image_id)

    def _project(self, project_id):
        """A project the caller can see."""
        if project_id is None:
            project = self.principal.scope_project
            if project is None:
                raise ValidationFailed("Say which project (project_id), or use a project-scoped token.")
            return project
        return get_or_404(projects_for(self.principal), "project", pk=project_id)

    def _job(self, job):
        return JobSerializer(job, context={"principal": self.principal}).data

    def _with_refs(self, values):
        values = dict(values)
        for field in ("kernel", "ramdisk"):
            if f"{field}_id" in values:
                values[field] = self._image_ref(values.pop(f"{field}_id"))
        return values

    @extend_schema(request=s.ImageCreateSerializer, responses={201: s.ImageSerializer})
    def create(self, request):
        values = self._with_refs(self.validated())
        owner = self._project(values.pop("owner", None))
        copy_from = values.pop("copy_from", None)
        location = values.pop("location", None)
        if not (copy_from or location):
            image = records.create_image(self.actor, owner=owner, **values)
            return Response(s.ImageSerializer(image).data, status=status.HTTP_201_CREATED)
        image, job = data.create_and_import(
            self.actor, owner=owner, url=copy_from or location, copy=bool(copy_from), **values
        )
        body = {**s.ImageSerializer(image).data, "job": self._job(job)}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ImageUpdateSerializer, responses={200: s.ImageSerializer})
    def partial_update(self, request, pk=None):
        image = records.update_image(
            self.actor, self.get_object(), **self._with_refs(self.validated(partial=True))
        )
        return Response(s.ImageSerializer(image).data)

    @extend_schema(responses={200: s.ImageSerializer})
    def destroy(self, request, pk=None):
        image = records.delete_image(self.actor, self.get_object())
        return Response(s.ImageSerializer(image).data)

    def _image_response(self, image):
        return Response(s.ImageSerializer(image).data)

    @extend_schema(request=None, responses={200: s.ImageSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        return self._image_response(records.restore_image(self.actor, self.get_object()))

    @extend_schema(request=None, responses={200: s.ImageSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self._image_response(records.set_deactivated(self.actor, self.get_object(), True))

    @extend_schema(request=None, responses={200: s.ImageSerializer})
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self._image_response(records.set_deactivated(self.actor, self.get_object(), False))

    @extend_schema(request=s.ProjectRefSerializer, responses={200: s.ImageSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        image = self.get_object()
        target = self._project(self.validated(s.ProjectRefSerializer)["project_id"])
        return self._image_response(records.move_image(self.actor, image, target))

    @extend_schema(request=s.ImportSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"], url_path="import", url_name="import")
    def import_data(self, request, pk=None):
        image = self.get_object()
        values = self.validated(s.ImportSerializer)
        job = data.start_import(self.actor, image, values["url"], copy=values["copy"])
        return Response(self._job(job), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: s.MemberSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def members(self, request, pk=None):
        members = selectors.members_for(self.principal, self.get_object())
        return Response(s.MemberSerializer(members, many=True).data)

    @extend_schema(request=s.ProjectRefSerializer, responses={201: s.MemberSerializer})
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        image = self.get_object()
        member = sharing.share(self.actor, image, self.validated(s.ProjectRefSerializer)["project_id"])
        return Response(s.MemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ProjectRefSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def unshare(self, request, pk=None):
        image = self.get_object()
        sharing.unshare(self.actor, image, self.validated(s.ProjectRefSerializer)["project_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.OptionalProjectRefSerializer, responses={200: s.MemberSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(ImageMember.ACCEPTED)

    @extend_schema(request=s.OptionalProjectRefSerializer, responses={200: s.MemberSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._answer(ImageMember.REJECTED)

    def _answer(self, answer):
        image = self.get_object()
        project = self._project(self.validated(s.OptionalProjectRefSerializer).get("project_id"))
        member = sharing.answer(self.actor, image, project, answer)
        return Response(s.MemberSerializer(member).data)
