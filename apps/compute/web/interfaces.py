"""What an instance's dashboard page shows of its NICs: their addresses, and the attach and detach forms."""

from apps.networks.selectors import addresses_of, usable_networks

from .. import states
from ..interfaces import ATTACH, DETACH
from .forms import AttachInterfaceForm


def _may(request, instance, action):
    return request.actor.can(f"compute.instance.{action}", instance.target()) and states.allows(
        action, instance.vm_state, instance.task_state
    )


def context(request, project, instance, form=None):
    """What the instance page shows of its NICs (nothing to change while it is in an action)."""
    return {
        "nics": addresses_of([instance.pk]).get(instance.pk, []),
        "can_attach": _may(request, instance, ATTACH),
        "can_detach": _may(request, instance, DETACH),
        "interface_form": form or AttachInterfaceForm(usable_networks(project), prefix="interface"),
    }
