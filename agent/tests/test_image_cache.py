"""The image cache with real files made by qemu-img: fetch once, refuse unsafe images, overlays, cleanup."""

import contextlib
import hashlib
import io
import os
import time

import pytest

from agent import protocol, qemu_img
from agent.errors import AgentError
from agent.image_cache import ImageCache
from agent.tests.builders import new_id, qcow2_bytes

MIB = 1024 * 1024
DAY = 24 * 3600


class Source:
    """Where the cache streams images from in these tests: bytes in memory, counting the fetches.

    (The HTTP download from the controller is exercised by the worker and operations tests.)
    """

    def __init__(self):
        self.images = {}
        self.fetches = 0

    def add(self, data, disk_format="qcow2", sha256=None):
        ref = protocol.ImageRef(new_id(), sha256 or hashlib.sha256(data).hexdigest(), len(data), disk_format)
        self.images[ref.image_id] = data
        return ref

    @contextlib.contextmanager
    def open_stream(self, image):
        self.fetches += 1
        yield io.BytesIO(self.images[image.image_id])


@pytest.fixture
def source():
    return Source()


@pytest.fixture
def cache(tmp_path, source):
    return ImageCache(tmp_path / "images", source.open_stream, max_age_seconds=DAY, free_space_margin_bytes=0)


def age(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_an_image_is_fetched_once_verified_and_kept_in_its_own_format(cache, source, tmp_path):
    ref = source.add(qcow2_bytes(tmp_path, "32M"))

    cached, already = cache.ensure(ref)
    again, already_again = cache.ensure(ref)

    assert (already, already_again) == (False, True)
    assert source.fetches == 1
    assert again.path == cached.path == tmp_path / "images" / ref.sha256
    assert (cached.qemu_format, cached.virtual_size_bytes) == ("qcow2", 32 * MIB)
    assert qemu_img.info(cached.path, "qcow2")["format"] == "qcow2"
    assert [e.sha256 for e in cache.entries()] == [ref.sha256]


def test_an_image_whose_bytes_do_not_match_the_signed_checksum_is_not_cached(cache, source, tmp_path):
    ref = source.add(qcow2_bytes(tmp_path), sha256="0" * 64)

    with pytest.raises(AgentError) as error:
        cache.ensure(ref)

    assert error.value.code == protocol.ERR_IMAGE_CHECKSUM_MISMATCH
    assert list((tmp_path / "images").iterdir()) == []


def test_a_qcow2_with_a_backing_file_is_refused(cache, source, tmp_path):
    base = tmp_path / "host-file.qcow2"
    qemu_img.create_blank(base, 16 * MIB)
    ref = source.add(qcow2_bytes(tmp_path, extra=("-F", "qcow2", "-b", str(base))))

    with pytest.raises(AgentError, match="backing file") as error:
        cache.ensure(ref)

    assert error.value.code == protocol.ERR_IMAGE_REFUSED
    assert cache.entries() == []


def test_a_qcow2_with_an_external_data_file_is_refused(cache, source, tmp_path):
    ref = source.add(qcow2_bytes(tmp_path, extra=("-o", f"data_file={tmp_path}/data.raw")))

    with pytest.raises(AgentError, match="data file") as error:
        cache.ensure(ref)

    assert error.value.code == protocol.ERR_IMAGE_REFUSED


def test_an_image_declared_raw_that_is_really_qcow2_is_refused(cache, source, tmp_path):
    ref = source.add(qcow2_bytes(tmp_path), disk_format="raw")

    with pytest.raises(AgentError, match="declared raw but the content is qcow2"):
        cache.ensure(ref)


def test_a_vmdk_whose_extents_are_other_files_is_refused(cache, source, tmp_path):
    descriptor = tmp_path / "split.vmdk"
    qemu_img._run(
        ["create", "-q", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", str(descriptor), "16M"]
    )
    ref = source.add(descriptor.read_bytes(), disk_format="vmdk")

    with pytest.raises(AgentError, match="single-file sparse VMDK"):
        cache.ensure(ref)


def test_a_single_file_vmdk_and_a_raw_image_are_accepted(cache, source, tmp_path):
    vmdk = tmp_path / "one.vmdk"
    qemu_img._run(["create", "-q", "-f", "vmdk", str(vmdk), "16M"])

    cached_vmdk, _ = cache.ensure(source.add(vmdk.read_bytes(), disk_format="vmdk"))
    cached_raw, _ = cache.ensure(source.add(b"\0" * MIB, disk_format="raw"))

    assert (cached_vmdk.qemu_format, cached_raw.qemu_format) == ("vmdk", "raw")


def test_an_overlay_is_backed_by_the_cached_base_and_grown_to_the_root_size(cache, source, tmp_path):
    cached, _ = cache.ensure(source.add(qcow2_bytes(tmp_path, "32M")))
    root = tmp_path / "instance" / "root.qcow2"
    root.parent.mkdir()

    cache.create_overlay(cached, root, 128 * MIB)

    details = qemu_img.info(root, "qcow2")
    assert details["virtual-size"] == 128 * MIB
    assert details["full-backing-filename"] == str(cached.path)
    assert details["backing-filename-format"] == "qcow2"
    assert qemu_img.backing_chain(root) == [str(root), str(cached.path)]


def test_creating_an_existing_overlay_again_keeps_it(cache, source, tmp_path):
    cached, _ = cache.ensure(source.add(qcow2_bytes(tmp_path)))
    root = tmp_path / "root.qcow2"
    cache.create_overlay(cached, root, 0)
    inode = root.stat().st_ino

    cache.create_overlay(cached, root, 0)

    assert root.stat().st_ino == inode


def test_a_root_disk_smaller_than_the_image_is_refused(cache, source, tmp_path):
    cached, _ = cache.ensure(source.add(qcow2_bytes(tmp_path, "64M")))

    with pytest.raises(AgentError) as error:
        cache.create_overlay(cached, tmp_path / "root.qcow2", 32 * MIB)

    assert error.value.code == protocol.ERR_ROOT_DISK_TOO_SMALL
    assert not (tmp_path / "root.qcow2").exists()


def test_an_ephemeral_disk_is_a_blank_qcow2_of_the_asked_size(cache, tmp_path):
    disk = cache.create_blank(tmp_path / "ephemeral.qcow2", 10 * MIB)

    details = qemu_img.info(disk, "qcow2")
    assert details["virtual-size"] == 10 * MIB
    assert "backing-filename" not in details


def test_cleanup_removes_only_old_bases_that_no_disk_is_backed_by(cache, source, tmp_path):
    in_use, _ = cache.ensure(source.add(qcow2_bytes(tmp_path, "16M")))
    unused, _ = cache.ensure(source.add(qcow2_bytes(tmp_path, "17M")))
    young, _ = cache.ensure(source.add(qcow2_bytes(tmp_path, "18M")))
    # A disk backed by the base through a middle layer: the whole chain counts.
    middle = tmp_path / "middle.qcow2"
    disk = tmp_path / "disk.qcow2"
    cache.create_overlay(in_use, middle, 0)
    qemu_img.create_overlay(middle, "qcow2", disk, 16 * MIB)
    for entry in (in_use, unused):
        age(entry.path, 2 * DAY)

    report = cache.cleanup([disk])

    assert report.removed == [unused.sha256]
    assert report.in_use == [in_use.sha256]
    assert {e.sha256 for e in cache.entries()} == {in_use.sha256, young.sha256}
    assert not unused.path.exists()


def test_cleanup_removes_nothing_when_a_disk_chain_cannot_be_read(cache, source, tmp_path):
    cached, _ = cache.ensure(source.add(qcow2_bytes(tmp_path)))
    age(cached.path, 2 * DAY)
    broken = tmp_path / "broken.qcow2"
    broken.write_bytes(b"not a disk")

    report = cache.cleanup([broken])

    assert report.removed == []
    assert "broken.qcow2" in report.error
    assert cached.path.exists()
