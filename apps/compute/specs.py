"""What a host is told an instance is: its spec (agent.protocol.InstanceSpec) and its images' references."""

from django.conf import settings

from agent import protocol
from apps.networks.services.instance_ports import nics_of

MB_PER_GB = 1024


def image_ref(image):
    return protocol.ImageRef(
        image_id=str(image.pk),
        sha256=image.sha256,
        size_bytes=image.size_bytes,
        disk_format=image.disk_format,
    )


def instance_spec(instance, size=None):
    """What the host makes of the instance; `size` (an offering): at that size (a resize's other end)."""
    image = instance.image
    kernel = image.kernel if image.kernel_id else None
    ramdisk = image.ramdisk if image.ramdisk_id else None
    offering = size or instance.offering
    sized = size or instance
    return protocol.InstanceSpec(
        instance_id=str(instance.pk),
        name=instance.name,
        project_id=str(instance.project_id),
        offering=offering.name,
        vcpus=sized.vcpus,
        ram_mb=sized.ram_mb,
        root_disk_mb=sized.root_disk_gb * MB_PER_GB,
        ephemeral_disk_mb=sized.ephemeral_disk_gb * MB_PER_GB,
        image=image_ref(image),
        kernel=image_ref(kernel) if kernel else None,
        ramdisk=image_ref(ramdisk) if ramdisk else None,
        kernel_cmdline=settings.CLOUDMGR_KERNEL_CMDLINE if kernel else "",
        arch=image.architecture or instance.host.arch or "x86_64",
        user_id=str(instance.created_by_id) if instance.created_by_id else None,
        nics=[protocol.NicSpec(*nic) for nic in _nics(instance)],
        config_drive=instance.config_drive,
    )


def _nics(instance):
    """Its NICs as the create that made them holds them, or as the database has them."""
    made = getattr(instance, "nics", None)
    return made if made is not None else nics_of(instance.pk)
