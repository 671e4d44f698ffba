"""What an instance's dashboard page shows of its NICs: their addresses, and the attach and detach forms;
and detaching one, asked first on a confirmation page."""

from apps.core.errors import NotFound
from apps.core.web.flow import asked
from apps.identity.services.common import require
from apps.networks.models import Port
from apps.networks.selectors import addresses_of, usable_networks

from .. import states
from ..interfaces import ATTACH, DETACH, detach_interface
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


def _nic(instance, port_id):
    """(its name in the guest's order, the NIC as the page shows it) of one of the instance's NICs."""
    for index, nic in enumerate(addresses_of([instance.pk]).get(instance.pk, [])):
        if nic["port_id"] == str(port_id):
            return f"eth{index}", nic
    raise NotFound("No such network interface.")


def detach_confirmed(request, project, instance, port_id, back):
    """GET: which NIC goes, and what becomes of its port and addresses; POST: detach it (the host unplugs
    it)."""
    name, nic = _nic(instance, port_id)
    require(
        request.actor, f"compute.instance.{DETACH}", instance.target(), "You may not detach its interfaces."
    )
    addresses = ", ".join(fixed["ip_address"] for fixed in nic["fixed_ips"]) or "no address"
    floating = ", ".join(nic["floating_ips"])
    consequences = [
        f"{name} on {nic['network_name']} ({addresses}) is unplugged from {instance.name} by its host:"
        " the guest loses that interface."
    ]
    if Port.objects.filter(pk=port_id, delete_with_instance=True).exists():
        consequences.append(
            "Its port was made for the instance: it is deleted, and its addresses are given back."
        )
        if floating:
            consequences.append(
                f"Floating IP {floating} no longer reaches it; the project keeps the address."
            )
    else:
        consequences.append("Its port was attached by its id: it is kept, unattached, with its addresses.")
    return asked(
        request,
        lambda: detach_interface(request.actor, instance, port_id=port_id),
        title=f"Detach {name} from {instance.name}?",
        button=f"Detach {name}",
        consequences=consequences,
        back=back,
        message=f"Detaching {name} from {instance.name}: the progress shows below.",
        area="dashboard",
        project=project,
    )
