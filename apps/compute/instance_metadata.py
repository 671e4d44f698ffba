"""An instance's metadata for its own host: the source of the metadata service and of the config drive.

Served at the agent endpoint, `GET instances/<id>/metadata`, signed by a host,
and answered only when the instance is placed on that host, or is moving to it
(the destination of a move in flight writes its config drive before the guest
is there): another host's instance, a deleted one and one that does not exist
are the same 404. User data
and SSH keys travel only this way, to the host that runs the guest, never in a
task message (other hosts read the broker). The agent renders the EC2 and
OpenStack documents from it (agent/instance_metadata.py), adding the network
part from its desired network state.
"""

import base64

from django.db.models import Q

from agent.network_protocol import InstanceMetadata, PublicKey
from apps.core.errors import NotFound
from apps.networks.addressing import dns_label

from . import states
from .models import Instance, Migration


def metadata_for_host(host, instance_id):
    arriving = Migration.objects.filter(destination_id=host.pk, status=states.MOVING).values("instance_id")
    instance = (
        Instance.objects.select_related("zone", "offering", "keypair")
        .filter(Q(host_id=host.pk) | Q(pk__in=arriving), pk=instance_id)
        .exclude(vm_state=states.DELETED)
        .first()
    )
    if instance is None:
        raise NotFound("No such instance on this host.", code="instance_not_found")
    keys = []
    if instance.ssh_public_key:
        name = instance.keypair.name if instance.keypair is not None else "key"
        keys.append(PublicKey(name=name, key=instance.ssh_public_key.strip()))
    user_data = bytes(instance.user_data or b"")
    return InstanceMetadata(
        instance_id=str(instance.pk),
        name=instance.name,
        hostname=dns_label(instance.name) or f"instance-{instance.pk.hex[:8]}",
        project_id=str(instance.project_id),
        availability_zone=instance.zone.name if instance.zone is not None else "",
        offering=instance.offering.name,
        image_id=str(instance.image_id) if instance.image_id else None,
        launched_at=int(instance.launched_at.timestamp()) if instance.launched_at else 0,
        public_keys=keys,
        user_data_b64=base64.b64encode(user_data).decode() if user_data else None,
    ).to_dict()
