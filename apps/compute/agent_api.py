"""The agents' recovery question: before it starts any guest, an agent asks what its guests should be doing.

POST agent.protocol.RECOVERY_PATH, signed by the host: the answer (Recovery)
says whether the host is fenced (then nothing starts, and its guests are
destroyed) and, otherwise, each of its instances with its spec and what its
guest should be doing. An instance in the middle of an action, or of a move, is
left off: the job under way decides where and whether it runs. Mounted in the
agents' endpoint (cloudmgr/agent_urls.py).
"""

import logging

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.http import require_POST

from agent import protocol
from apps.infrastructure.agent_api.views import agent_view, require_supported, signed_message
from apps.infrastructure.models import Host

from . import states
from .models import Instance, Migration
from .specs import instance_spec

log = logging.getLogger(__name__)

RUNNING_STATES = {states.ACTIVE: "running", states.PAUSED: "paused"}


def desired_power(instance, resized_running):
    if instance.task_state is not None:
        return "off"
    if instance.vm_state == states.RESIZED:
        return "running" if instance.pk in resized_running else "off"
    return RUNNING_STATES.get(instance.vm_state, "off")


def recovery_for(host):
    """What the host's agent is told when it starts."""
    if host.state == Host.FENCED:
        return protocol.Recovery(fenced=True)
    instances = (
        Instance.objects.filter(host=host)
        .exclude(vm_state=states.DELETED)
        .select_related("host", "offering", "image__kernel", "image__ramdisk")
    )
    resized_running = set(
        Migration.objects.filter(
            destination=host, status=states.AWAITING_CONFIRM, vm_state_before=states.ACTIVE
        ).values_list("instance_id", flat=True)
    )
    desired = []
    for instance in instances:
        if instance.image is None:
            log.warning(
                "recovery of %s: instance %s has no image left; its guest is left off", host, instance.pk
            )
            continue
        desired.append(
            protocol.DesiredInstance(instance_spec(instance), desired_power(instance, resized_running))
        )
    return protocol.Recovery(fenced=False, instances=desired)


@agent_view
@require_POST
def recovery_view(request):
    host, message = signed_message(request, protocol.RecoveryRequest)
    require_supported(message.protocol_version)
    return JsonResponse(recovery_for(host).to_dict())


urlpatterns = [path("recovery", recovery_view, name="recovery")]
