"""Jobs API: status, progress, result or error of long operations."""

from rest_framework import mixins, serializers

from apps.core.api.serializers import ModelSerializer
from apps.core.api.views import ServiceViewSet

from ..models import Job
from ..selectors import jobs_for, result_visible


class JobSerializer(ModelSerializer):
    """A job; `result` is null for a caller who may not perform the job's action (context: principal)."""

    result = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "progress",
            "progress_message",
            "result",
            "error",
            "object_type",
            "object_id",
            "project_id",
            "created_at",
            "started_at",
            "finished_at",
            "deadline",
        ]

    def get_result(self, job) -> dict | None:
        return job.result if result_visible(self.context.get("principal"), job) else None

    def get_error(self, job) -> dict | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = JobSerializer
    filterset_fields = ["state", "kind", "project_id", "object_type", "object_id"]

    def get_queryset(self):
        return jobs_for(self.principal)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "principal": self.principal}
