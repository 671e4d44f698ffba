"""Disk and container formats an image may declare, and the rules that tie them together."""

from apps.core.errors import ValidationFailed

RAW, QCOW2, VMDK, VDI, VHD, ISO, AKI, ARI, AMI = (
    "raw",
    "qcow2",
    "vmdk",
    "vdi",
    "vhd",
    "iso",
    "aki",
    "ari",
    "ami",
)
DISK_FORMATS = (RAW, QCOW2, VMDK, VDI, VHD, ISO, AKI, ARI, AMI)

BARE, OVF = "bare", "ovf"
CONTAINER_FORMATS = (BARE, OVF, AKI, ARI, AMI)

# Amazon kernel, ramdisk and machine images: the disk and container format must be the same kind.
AMAZON = (AKI, ARI, AMI)

# What qemu calls each format whose metadata qemu itself interprets; only these need `qemu-img info`.
QEMU_NAMES = {QCOW2: "qcow2", VMDK: "vmdk", VDI: "vdi", VHD: "vpc"}

# The formats oslo's inspector may report for data declared in each disk format. Raw-like
# kinds accept a GPT partition table (still plain bytes to qemu); an ISO may be a hybrid with one.
ACCEPTED_CONTENT = {
    RAW: {"raw", "gpt"},
    AMI: {"raw", "gpt"},
    AKI: {"raw"},
    ARI: {"raw"},
    ISO: {"iso", "gpt"},
    QCOW2: {"qcow2"},
    VMDK: {"vmdk"},
    VDI: {"vdi"},
    VHD: {"vhd"},
}


def validate_formats(disk_format, container_format):
    if disk_format not in DISK_FORMATS:
        raise ValidationFailed(
            f"Unknown disk format {disk_format!r}; one of {', '.join(DISK_FORMATS)}.", code="bad_disk_format"
        )
    if container_format not in CONTAINER_FORMATS:
        raise ValidationFailed(
            f"Unknown container format {container_format!r}; one of {', '.join(CONTAINER_FORMATS)}.",
            code="bad_container_format",
        )
    if (disk_format in AMAZON or container_format in AMAZON) and disk_format != container_format:
        raise ValidationFailed(
            "Amazon kernel, ramdisk and machine images need the same disk and container format "
            f"(got {disk_format}/{container_format}).",
            code="amazon_format_mismatch",
        )
