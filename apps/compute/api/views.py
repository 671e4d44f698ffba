"""Compute API: offerings, keypairs, affinity groups, instances and their actions."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.views import ServiceViewSet
from apps.core.errors import Conflict, ValidationFailed
from apps.identity.models import Domain
from apps.identity.selectors import visible_project
from apps.jobs.models import Job
from apps.jobs.waiting import wait_for_job

from .. import selectors
from ..interfaces import attach_interface, detach_interface
from ..services import affinity, keypairs, lifecycle, moves, offerings, snapshots
from ..services.instances import create_instance
from . import serializers as s


def project_of(view, data):
    """The project named in the body, or the one the token is scoped to."""
    project_id = data.get("project_id")
    if project_id is None:
        scope = view.principal.scope_project
        if scope is None:
            raise ValidationFailed("Say which project: project_id.", code="project_required")
        project_id = scope.pk
    return visible_project(view.principal, project_id)


def accepted(job, body=None):
    return Response(
        {**(body or {}), "job_id": str(job.pk)},
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/jobs/{job.pk}/"},
    )


class OfferingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.OfferingSerializer
    update_serializer_class = s.OfferingUpdateSerializer
    filterset_fields = ["name", "enabled", "public", "vcpus"]

    def get_queryset(self):
        return selectors.offerings_for(self.principal)

    def _domains(self, data):
        ids = data.pop("domain_ids", None)
        if ids is None:
            return None
        found = list(Domain.objects.filter(pk__in=ids))
        if len(found) != len(set(ids)):
            raise ValidationFailed("Some domains do not exist.", code="domain_not_found")
        return found

    def create(self, request):
        data = dict(self.validated())
        offering = offerings.create_offering(self.actor, domains=self._domains(data) or (), **data)
        return Response(s.OfferingSerializer(offering).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        data = dict(self.validated(partial=True))
        offering = offerings.update_offering(
            self.actor, self.get_object(), domains=self._domains(data), **data
        )
        return Response(s.OfferingSerializer(offering).data)

    def destroy(self, request, pk=None):
        offerings.delete_offering(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class KeypairViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.KeypairSerializer
    write_serializer_class = s.KeypairCreateSerializer
    filterset_fields = ["name", "project", "key_type"]

    def get_queryset(self):
        return selectors.keypairs_for(self.principal)

    @extend_schema(responses={201: s.KeypairCreatedSerializer})
    def create(self, request):
        data = self.validated()
        keypair, private_key = keypairs.create_keypair(
            self.actor,
            project_of(self, data),
            name=data["name"],
            public_key=data.get("public_key"),
            key_type=data["key_type"],
        )
        keypair.private_key = private_key
        return Response(s.KeypairCreatedSerializer(keypair).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        keypairs.delete_keypair(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AffinityGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.AffinityGroupSerializer
    filterset_fields = ["name", "project", "policy"]

    def get_queryset(self):
        return selectors.affinity_groups_for(self.principal)

    def create(self, request):
        data = self.validated()
        group = affinity.create_affinity_group(
            self.actor, project_of(self, data), name=data["name"], policy=data["policy"]
        )
        return Response(s.AffinityGroupSerializer(group).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        affinity.delete_affinity_group(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InstanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.InstanceSerializer
    write_serializer_class = s.InstanceCreateSerializer
    filterset_fields = ["name", "project", "vm_state", "task_state", "offering", "zone"]

    def get_queryset(self):
        return selectors.instances_for(self.principal)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "principal": self.principal}

    def _shown(self, instance, job, reread=True):
        if reread:
            instance = self.get_queryset().get(pk=instance.pk)
        return accepted(job, s.InstanceSerializer(instance, context=self.get_serializer_context()).data)

    @extend_schema(responses={202: s.InstanceAcceptedSerializer})
    def create(self, request):
        data = dict(self.validated())
        project = project_of(self, data)
        data.pop("project_id", None)
        instance, job = create_instance(self.actor, project, **data)
        # The service returns the row exactly as it inserted it.
        return self._shown(instance, job, reread=False)

    @extend_schema(responses={202: s.InstanceAcceptedSerializer})
    def destroy(self, request, pk=None):
        instance = self.get_object()
        return self._shown(instance, lifecycle.act(self.actor, instance, "delete"))

    def _act(self, action_name, **options):
        instance = self.get_object()
        return self._shown(instance, lifecycle.act(self.actor, instance, action_name, **options))

    @extend_schema(request=None, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._act("start")

    @extend_schema(request=s.StopSerializer, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        force = self.validated(s.StopSerializer)["force"]
        return self._act(
            "stop", graceful_timeout_seconds=0 if force else settings.CLOUDMGR_INSTANCE_STOP_TIMEOUT_SECONDS
        )

    @extend_schema(request=s.RebootSerializer, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def reboot(self, request, pk=None):
        hard = self.validated(s.RebootSerializer)["type"] == "hard"
        return self._act(
            "reboot_hard" if hard else "reboot",
            graceful_timeout_seconds=settings.CLOUDMGR_INSTANCE_STOP_TIMEOUT_SECONDS,
        )

    @extend_schema(request=None, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._act("pause")

    @extend_schema(request=None, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def unpause(self, request, pk=None):
        return self._act("unpause")

    @extend_schema(request=None, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._act("suspend")

    @extend_schema(request=None, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._act("resume")

    @extend_schema(request=s.RebuildSerializer, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def rebuild(self, request, pk=None):
        image_id = self.validated(s.RebuildSerializer)["image_id"]
        instance = self.get_object()
        return self._shown(instance, lifecycle.rebuild(self.actor, instance, image_id))

    @extend_schema(request=s.SnapshotSerializer, responses={202: s.SnapshotAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def snapshot(self, request, pk=None):
        """Snapshot the root disk into a new image (queued now, active once the host uploaded it)."""
        name = self.validated(s.SnapshotSerializer)["name"]
        image, job = snapshots.snapshot(self.actor, self.get_object(), name)
        return accepted(job, {"image_id": str(image.pk)})

    @extend_schema(request=s.ResizeSerializer, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def resize(self, request, pk=None):
        """Resize to another offering; the instance rests in `resized` until confirmed or reverted."""
        offering_id = self.validated(s.ResizeSerializer)["offering_id"]
        instance = self.get_object()
        return self._shown(instance, moves.resize(self.actor, instance, offering_id))

    @extend_schema(request=None, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"], url_path="confirm-resize")
    def confirm_resize(self, request, pk=None):
        instance = self.get_object()
        return self._shown(instance, moves.confirm_resize(self.actor, instance))

    @extend_schema(request=None, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"], url_path="revert-resize")
    def revert_resize(self, request, pk=None):
        instance = self.get_object()
        return self._shown(instance, moves.revert_resize(self.actor, instance))

    def _move(self, service):
        options = self.validated(s.MoveSerializer)
        instance = self.get_object()
        return self._shown(instance, service(self.actor, instance, **options))

    @extend_schema(request=s.MoveSerializer, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def migrate(self, request, pk=None):
        """Cloud administrators: cold-migrate to a chosen or a scheduled host."""
        return self._move(moves.migrate)

    @extend_schema(request=s.MoveSerializer, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"], url_path="live-migrate")
    def live_migrate(self, request, pk=None):
        """Cloud administrators: migrate the running guest without stopping it."""
        return self._move(moves.live_migrate)

    @extend_schema(request=s.MoveSerializer, responses={202: s.InstanceAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def evacuate(self, request, pk=None):
        """Cloud administrators: rebuild an instance of a fenced host elsewhere, from its image."""
        return self._move(moves.evacuate)

    @extend_schema(request=s.AttachInterfaceSerializer, responses={202: s.InterfaceAcceptedSerializer})
    @action(detail=True, methods=["post"], url_path="attach-interface")
    def attach_interface(self, request, pk=None):
        """Plug one more NIC in: a new port on `network_id`, or the unattached `port_id`."""
        data = self.validated(s.AttachInterfaceSerializer)
        port, job = attach_interface(self.actor, self.get_object(), **data)
        return accepted(job, {"port_id": str(port.pk)})

    @extend_schema(request=s.DetachInterfaceSerializer, responses={202: s.InterfaceAcceptedSerializer})
    @action(detail=True, methods=["post"], url_path="detach-interface")
    def detach_interface(self, request, pk=None):
        """Unplug a NIC; its port goes (or, attached by id, is let go) once the host has unplugged it."""
        port_id = self.validated(s.DetachInterfaceSerializer)["port_id"]
        job = detach_interface(self.actor, self.get_object(), port_id=port_id)
        return accepted(job, {"port_id": str(port_id)})

    @extend_schema(
        request=s.ConsoleLogRequestSerializer,
        responses={200: s.ConsoleLogSerializer, 202: s.JobAcceptedSerializer},
    )
    @action(detail=True, methods=["post"], url_path="console-log")
    def console_log(self, request, pk=None):
        """The tail of the serial console: 200 with the text once the host answers, else 202 with the job."""
        max_bytes = self.validated(s.ConsoleLogRequestSerializer)["max_bytes"]
        job = lifecycle.request_console_log(self.actor, self.get_object(), max_bytes)
        job = wait_for_job(job.pk, settings.CLOUDMGR_CONSOLE_LOG_WAIT_SECONDS)
        if job.state == Job.SUCCEEDED:
            return Response({"job_id": str(job.pk), **job.result})
        if job.state == Job.FAILED:
            raise Conflict(job.error_message, code=job.error_code, details={"job_id": str(job.pk)})
        return accepted(job)


class MigrationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """The moves of instances between hosts: cloud administrators only (they name hosts)."""

    serializer_class = s.MigrationSerializer
    filterset_fields = ["instance", "kind", "status", "source", "destination", "reason"]

    def get_queryset(self):
        return selectors.migrations_for(self.principal)
