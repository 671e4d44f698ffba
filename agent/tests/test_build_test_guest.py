"""scripts/build_test_guest.py, run as a program: the kernel, the initramfs and the token disk it builds.

The build fetches the Debian cloud kernel through apt (cached in the
repository's var/cache/test-guest, so only the first run downloads it). Booting
the three images is the compute end-to-end test's work; here the files are
checked for what that boot relies on, including that the agent's own image
inspection accepts them in the formats they are uploaded as.
"""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent import image_inspect, qemu_img

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_test_guest.py"
MIB = 1024 * 1024
BZIMAGE_SIGNATURE_OFFSET = 0x202
BOOT_FLAG_OFFSET = 0x1FE
# Each of these must be loaded after the ones it needs (modules.dep order).
VIRTIO_ORDER = ["virtio_ring.ko", "virtio.ko", "virtio_pci.ko", "virtio_blk.ko"]


def build(out_dir):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(out_dir)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def newc_entries(data):
    """{name: (mode, content)} of a newc cpio archive."""
    entries, offset = {}, 0
    while True:
        header = data[offset : offset + 110]
        assert header[:6] == b"070701", f"not a newc header at {offset}"
        fields = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
        mode, size, name_size = fields[1], fields[6], fields[11]
        name_start = offset + 110
        name = data[name_start : name_start + name_size - 1].decode()
        data_start = (name_start + name_size + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, data[data_start : data_start + size])
        offset = (data_start + size + 3) & ~3


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("guest")
    return out_dir, build(out_dir)


def test_the_kernel_is_the_debian_cloud_kernel_as_a_bzimage(guest):
    out_dir, manifest = guest
    kernel = (out_dir / "vmlinuz").read_bytes()

    assert manifest["kernel_package"].startswith("linux-image-")
    assert manifest["kernel_package"].endswith("-cloud-amd64")
    assert kernel[BZIMAGE_SIGNATURE_OFFSET : BZIMAGE_SIGNATURE_OFFSET + 4] == b"HdrS"
    assert kernel[BOOT_FLAG_OFFSET : BOOT_FLAG_OFFSET + 2] == b"\x55\xaa"
    assert len(kernel) > 4 * MIB


def test_the_initramfs_holds_busybox_an_init_and_the_virtio_modules_in_load_order(guest):
    out_dir, manifest = guest
    entries = newc_entries(gzip.decompress((out_dir / "initrd.gz").read_bytes()))

    init_mode, init = entries["init"]
    assert init_mode & 0o111
    assert init.startswith(b"#!/bin/busybox sh\n")
    assert b"/dev/vda" in init
    assert b"CLOUDMGR-DISK-TOKEN=" in init
    assert entries["bin/busybox"][1][:4] == b"\x7fELF"
    order = entries["lib/modules/load-order"][1].decode().split()
    assert order == manifest["modules"]
    for module in order:
        assert entries[f"lib/modules/{module}"][1][:4] == b"\x7fELF"
    positions = [order.index(name) for name in VIRTIO_ORDER]
    assert positions == sorted(positions)
    assert {"button.ko", "evdev.ko"} <= set(order)
    assert entries["etc/acpi/power-off"][0] & 0o111


def test_the_disk_is_a_standalone_qcow2_whose_first_sector_carries_the_token(guest, tmp_path):
    out_dir, manifest = guest
    disk = out_dir / "disk.qcow2"
    first_sector = tmp_path / "sector.raw"

    info = qemu_img.info(disk, "qcow2")
    subprocess.run(
        [
            "qemu-img",
            "dd",
            "-f",
            "qcow2",
            "-O",
            "raw",
            f"if={disk}",
            f"of={first_sector}",
            "bs=512",
            "count=1",
        ],
        check=True,
    )

    assert "backing-filename" not in info
    assert info["virtual-size"] == 64 * MIB
    token = (out_dir / "token").read_text().strip()
    assert token == manifest["token"]
    assert len(token) == 32
    assert manifest["marker"] == f"CLOUDMGR-DISK-TOKEN={token}"
    assert first_sector.read_bytes() == f"CLOUDMGR-TOKEN:{token}\n".encode().ljust(512, b"\0")


def test_the_agent_accepts_the_three_files_in_the_formats_they_are_uploaded_as(guest):
    out_dir, _ = guest

    kernel = image_inspect.inspect(out_dir / "vmlinuz", "aki")
    ramdisk = image_inspect.inspect(out_dir / "initrd.gz", "ari")
    disk = image_inspect.inspect(out_dir / "disk.qcow2", "qcow2")

    assert (kernel.qemu_format, ramdisk.qemu_format, disk.qemu_format) == ("raw", "raw", "qcow2")
    assert disk.virtual_size_bytes == 64 * MIB


def test_building_again_into_the_same_directory_keeps_the_token(guest):
    out_dir, first = guest

    again = build(out_dir)

    assert again["token"] == first["token"]
    assert (out_dir / "token").read_text().strip() == first["token"]
    assert sorted(path.name for path in out_dir.iterdir()) == [
        "disk.qcow2",
        "guest.json",
        "initrd.gz",
        "token",
        "vmlinuz",
    ]
