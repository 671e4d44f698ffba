"""libvirt domain XML for one instance, and cloudmgr's ``<metadata>`` tag that marks it as ours.

The domain: persistent, named after the instance, its UUID the instance's;
virtio root overlay (vda) and optional ephemeral disk (vdb); direct kernel boot
when the image has a kernel (aki) and ramdisk (ari); the serial console on a
pty whose output virtlogd writes to the instance's console.log; one virtio NIC per
port, a tap named by the controller on the network's bridge with the network's MTU;
the config drive as a read-only CD-ROM when asked; no graphics (libvirt then starts
qemu with ``-display none``: no VNC).
"""

import xml.etree.ElementTree as ET

from .. import protocol
from .base import domain_name

METADATA_NS = "urn:cloudmgr:xmlns:libvirt:instance:1"
METADATA_PREFIX = "cloudmgr"
X86 = ("x86_64", "i686")


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        element.text = str(text)
    return element


def metadata_element(spec):
    ET.register_namespace(METADATA_PREFIX, METADATA_NS)
    root = ET.Element(f"{{{METADATA_NS}}}instance")
    values = {
        "id": spec.instance_id,
        "name": spec.name,
        "project": spec.project_id,
        "user": spec.user_id or "",
        "offering": spec.offering,
        "image": spec.image.image_id,
        "spec-sha256": spec.spec_sha256(),
        "protocol": protocol.PROTOCOL_VERSION,
    }
    for tag, value in values.items():
        ET.SubElement(root, f"{{{METADATA_NS}}}{tag}").text = str(value)
    return root


def parse_metadata(text):
    """The values of cloudmgr's metadata element (as libvirt returns it), or None when absent."""
    if not text:
        return None
    element = ET.fromstring(text)  # noqa: S314 (libvirt's own output of what the agent wrote)
    values = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in element}
    return values if protocol.is_uuid(values.get("id")) else None


def interface_element(nic):
    interface = ET.Element("interface", type="bridge")
    _sub(interface, "source", bridge=nic.bridge)
    _sub(interface, "mac", address=nic.mac)
    _sub(interface, "model", type_="virtio")
    _sub(interface, "target", dev=nic.device_name)
    _sub(interface, "mtu", size=str(nic.mtu))
    return interface


def interface_xml(nic):
    return ET.tostring(interface_element(nic), encoding="unicode")


def build_domain_xml(spec, files, domain_type, nics=()):
    domain = ET.Element("domain", type=domain_type)
    _sub(domain, "name", domain_name(spec.instance_id))
    _sub(domain, "uuid", spec.instance_id)
    _sub(domain, "title", spec.name)
    _sub(domain, "metadata").append(metadata_element(spec))
    _sub(domain, "memory", spec.ram_mb, unit="MiB")
    _sub(domain, "vcpu", spec.vcpus)
    os_element = _sub(domain, "os")
    _sub(os_element, "type", "hvm", arch=spec.arch)
    if spec.kernel is not None:
        _sub(os_element, "kernel", files.kernel)
        if spec.ramdisk is not None:
            _sub(os_element, "initrd", files.ramdisk)
        _sub(os_element, "cmdline", spec.kernel_cmdline)
    else:
        _sub(os_element, "boot", dev="hd")
    if spec.arch in X86:
        features = _sub(domain, "features")
        _sub(features, "acpi")
        _sub(features, "apic")
    if domain_type == "kvm":
        _sub(domain, "cpu", mode="host-model")
    _sub(domain, "clock", offset="utc")
    _sub(domain, "on_poweroff", "destroy")
    _sub(domain, "on_reboot", "restart")
    _sub(domain, "on_crash", "destroy")
    devices = _sub(domain, "devices")
    _disk(devices, files.root_disk, "vda")
    if spec.ephemeral_disk_mb:
        _disk(devices, files.ephemeral_disk, "vdb")
    if spec.config_drive:
        cdrom = _sub(devices, "disk", type_="file", device="cdrom")
        _sub(cdrom, "driver", name="qemu", type_="raw")
        _sub(cdrom, "source", file=str(files.config_drive))
        _sub(
            cdrom,
            "target",
            dev="hdc" if spec.arch in X86 else "sdc",
            bus="ide" if spec.arch in X86 else "scsi",
        )
        _sub(cdrom, "readonly")
    for nic in nics:
        devices.append(interface_element(nic))
    serial = _sub(devices, "serial", type_="pty")
    _sub(serial, "log", file=str(files.console_log), append="on")
    _sub(serial, "target", port="0")
    console = _sub(devices, "console", type_="pty")
    _sub(console, "target", type_="serial", port="0")
    _sub(devices, "memballoon", model="virtio")
    return ET.tostring(domain, encoding="unicode")


def _disk(devices, path, target):
    disk = _sub(devices, "disk", type_="file", device="disk")
    _sub(disk, "driver", name="qemu", type_="qcow2", discard="unmap")
    _sub(disk, "source", file=str(path))
    _sub(disk, "target", dev=target, bus="virtio")


# What a guest that arrived by live migration may have: the devices build_domain_xml makes, and the
# ones libvirt adds when it defines a domain. A compromised source sends the domain's XML: anything
# else (a host device, a shared filesystem, a disk that is not the instance's own, a NIC that is not one
# of its ports as this host plugs them) is refused.
ARRIVED_DEVICES = frozenset(
    {"emulator", "disk", "controller", "input", "serial", "console", "memballoon", "interface"}
)


def foreign_parts(xml, files, nics=()):
    """What in an arrived domain's XML is not the instance's own (`nics`: its PluggedNic here): [] when it
    is all its own."""
    domain = ET.fromstring(xml)  # noqa: S314 (libvirt's own description of the domain)
    own_disks = {str(files.root_disk), str(files.ephemeral_disk), str(files.config_drive)}
    own_nics = {(nic.mac, nic.device_name, nic.bridge) for nic in nics}
    own_boot = {"kernel": str(files.kernel), "initrd": str(files.ramdisk)}
    problems = []
    devices = domain.find("devices")
    for device in devices if devices is not None else ():
        if device.tag not in ARRIVED_DEVICES:
            problems.append(f"device {device.tag}")
        elif device.tag == "disk":
            source = device.find("source")
            path = source.get("file") if source is not None else None
            if device.get("type") != "file" or path not in own_disks:
                problems.append(f"disk {path or device.get('type')}")
        elif device.tag == "interface" and _interface_of(device) not in own_nics:
            problems.append(f"interface {_interface_of(device)}")
    for tag, path in own_boot.items():
        element = domain.find(f"os/{tag}")
        if element is not None and element.text != path:
            problems.append(f"{tag} {element.text}")
    return problems


def _interface_of(device):
    """(MAC, tap, bridge) of an <interface>: anything but a bridged tap has no bridge, so is never own."""
    mac, target, source = (device.find(tag) for tag in ("mac", "target", "source"))
    return (
        mac.get("address") if mac is not None else None,
        target.get("dev") if target is not None else None,
        source.get("bridge") if source is not None and device.get("type") == "bridge" else None,
    )
