"""`POST /api/v1/image-prefetches/` {image_id, host_ids}: warm hosts' caches; 202 with one job per host."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.core.api.views import ServiceViewSet
from apps.core.errors import NotFound
from apps.core.scoping import get_or_404
from apps.images.selectors import images_for
from apps.infrastructure.selectors import hosts_for
from apps.jobs.models import Job

from ..prefetch import prefetch_image


class PrefetchSerializer(serializers.Serializer):
    image_id = serializers.UUIDField()
    host_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=1000)


class PrefetchJobSerializer(serializers.Serializer):
    host_id = serializers.UUIDField()
    job_id = serializers.UUIDField()


class ImagePrefetchViewSet(ServiceViewSet):
    serializer_class = PrefetchSerializer
    # Only a create: nothing to list, so nothing for the schema to find a model through, and its
    # answer is a plain list of jobs, not a page.
    queryset = Job.objects.none()
    pagination_class = None

    @extend_schema(request=PrefetchSerializer, responses={202: PrefetchJobSerializer(many=True)})
    def create(self, request):
        data = self.validated()
        image = get_or_404(images_for(self.principal), "image", pk=data["image_id"])
        wanted = set(data["host_ids"])
        hosts = list(hosts_for(self.principal).filter(pk__in=wanted).order_by("name"))
        if len(hosts) != len(wanted):
            missing = sorted(str(pk) for pk in wanted - {host.pk for host in hosts})
            raise NotFound("No such host.", code="host_not_found", details={"host_ids": missing})
        jobs = prefetch_image(self.actor, image, hosts)
        body = [{"host_id": host.pk, "job_id": job.pk} for host, job in zip(hosts, jobs, strict=True)]
        return Response(PrefetchJobSerializer(body, many=True).data, status=status.HTTP_202_ACCEPTED)
