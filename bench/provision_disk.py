"""Bench: provisioning an instance disk from a cached image, overlay against copy-and-convert-to-raw.

Two qcow2 images with real (random) data are made, of 1 GiB and 10 GiB virtual
size, with up to `--allocated-mib` MiB allocated in each (default 2048: the
1 GiB image is then full, the 10 GiB one has 2 GiB spread over its length).
Each is fetched into an agent image cache (agent.image_cache.ImageCache.ensure:
streamed, sha256-checked, inspected, renamed into place). Then, per image:

- `overlay`: the agent's own spawn path (agent.operations.Operations
  `_prepare_disks`): the cache lookup, a qcow2 overlay backed by the cached
  base grown to the offering's root size (`--root-gib`, default 20), plus an
  ephemeral disk of `--ephemeral-gib` when that is not 0;
- `convert`: `qemu-img convert -O raw` of the cached base (what a raw-disk
  pipeline does once per image and host);
- `copy`: a copy of that raw file into the instance directory (cp, sparse-aware),
  grown to the root size (what it does for every instance);
- `classic` = convert + copy: the first instance's disk on a host.

Every measured step ends with its files fsynced, so a copy is not timed into the
page cache only. The base images stay in the page cache (they were just
written), which favours the copying pipeline. `--rounds` rounds (default 3) of
convert and copy, ten times as many of the overlay (it takes milliseconds), the
two images' overlays alternating; medians are reported.

Targets: the 10 GiB overlay at most 1.5x the 1 GiB overlay, and under 10% of
the 10 GiB copy-and-convert. The free space needed is checked first; every file
is removed at the end. The last line printed is one JSON object.

    .venv/bin/python bench/provision_disk.py [--dir DIR] [--rounds 3] [--allocated-mib 2048]
        [--root-gib 20] [--ephemeral-gib 0]
"""

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from agent import protocol  # noqa: E402 (after the path set-up)
from agent.image_cache import ImageCache  # noqa: E402
from agent.operations import Operations  # noqa: E402

MIB = 1024 * 1024
GIB = 1024 * MIB
EXTENT_BYTES = 64 * MIB
IMAGES_GIB = (1, 10)
OVERLAYS_PER_ROUND = 10
TARGET_RATIO_10_TO_1 = 1.5
TARGET_SHARE_OF_CLASSIC = 0.10
SPACE_MARGIN_BYTES = GIB
DAY = 24 * 3600


def allocated_bytes(path):
    return os.stat(path).st_blocks * 512


def fsync_files(*paths):
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_free_space(directory, allocated_each):
    """Exit with a message when the bench's files would not fit.

    The peak is during the measurements: the cached bases, plus the largest
    image's raw conversion and its copy (making an image needs less: its raw
    source and its qcow2 next to the bases made before).
    """
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    largest = max(allocated_each)
    needed = sum(allocated_each) + 2 * largest + SPACE_MARGIN_BYTES
    print(f"free space on {directory}: {free / GIB:.1f} GiB, needed: {needed / GIB:.1f} GiB", flush=True)
    if free < needed:
        sys.exit(
            f"provision_disk: not enough free space on {directory}: {free / GIB:.1f} GiB free, "
            f"{needed / GIB:.1f} GiB needed (use --dir elsewhere or a smaller --allocated-mib)"
        )


def make_image(directory, virtual_bytes, allocated, seed):
    """A qcow2 of `virtual_bytes` whose `allocated` bytes of random data are spread over its length."""
    raw = directory / f"source-{seed}.raw"
    image = directory / f"source-{seed}.qcow2"
    extents = max(1, allocated // EXTENT_BYTES)
    stride = virtual_bytes // extents
    generator = random.Random(seed)
    with raw.open("wb") as out:
        out.truncate(virtual_bytes)
        for index in range(extents):
            out.seek(index * stride)
            for _ in range(EXTENT_BYTES // MIB):
                out.write(generator.randbytes(MIB))
    subprocess.run(
        ["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(image)], check=True
    )
    raw.unlink()
    return image


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


class Bench:
    def __init__(self, work, root_gib, ephemeral_gib):
        self.work = work
        self.data_dir = work / "data"
        self.root_bytes = root_gib * GIB
        self.ephemeral_bytes = ephemeral_gib * GIB
        self.sources = {}
        self.cache = ImageCache(self.data_dir / "images", self.open_stream, max_age_seconds=DAY)
        self.operations = Operations(driver=None, cache=self.cache, client=None, data_dir=self.data_dir)

    @contextlib.contextmanager
    def open_stream(self, image):
        """The cache's download, from a local file instead of the controller."""
        with open(self.sources[image.image_id], "rb") as handle:
            yield handle

    def cache_image(self, source):
        ref = protocol.ImageRef(str(uuid.uuid4()), sha256_of(source), source.stat().st_size, "qcow2")
        self.sources[ref.image_id] = source
        started = time.perf_counter()
        cached, _ = self.cache.ensure(ref)
        fetch_s = time.perf_counter() - started
        source.unlink()
        return ref, cached, fetch_s

    def spec(self, ref):
        return protocol.InstanceSpec(
            instance_id=str(uuid.uuid4()),
            name="bench",
            project_id=str(uuid.uuid4()),
            offering="bench",
            vcpus=1,
            ram_mb=256,
            root_disk_mb=self.root_bytes // MIB,
            ephemeral_disk_mb=self.ephemeral_bytes // MIB,
            image=ref,
        )

    def overlay(self, ref):
        """Seconds for the agent's spawn-time disk work, and the bytes it allocated."""
        spec = self.spec(ref)
        files = self.operations.files(spec.instance_id)
        started = time.perf_counter()
        # The very code a spawn runs before defining the domain (cache lookup, overlay, ephemeral).
        self.operations._prepare_disks(spec, files, lambda *_: None)
        made = [files.root_disk, *([files.ephemeral_disk] if spec.ephemeral_disk_mb else [])]
        fsync_files(*made, files.dir)
        elapsed = time.perf_counter() - started
        allocated = sum(allocated_bytes(path) for path in made)
        files.remove()
        return elapsed, allocated

    def classic(self, cached):
        """Seconds to convert the cached base to raw, then to copy it for one instance; bytes allocated."""
        raw = self.work / "base.raw"
        instance_dir = self.work / "classic-instance"
        instance_dir.mkdir()
        copy = instance_dir / "disk.raw"
        started = time.perf_counter()
        subprocess.run(
            ["qemu-img", "convert", "-q", "-f", cached.qemu_format, "-O", "raw", str(cached.path), str(raw)],
            check=True,
        )
        fsync_files(raw, self.work)
        converted = time.perf_counter()
        subprocess.run(["cp", "--sparse=auto", str(raw), str(copy)], check=True)
        os.truncate(copy, max(self.root_bytes, os.path.getsize(copy)))
        fsync_files(copy, instance_dir)
        copied = time.perf_counter()
        allocated = allocated_bytes(copy)
        raw.unlink()
        shutil.rmtree(instance_dir)
        return converted - started, copied - converted, allocated


def median(values):
    return round(statistics.median(values), 4)


@dataclass
class Subject:
    """One cached image and what was measured on it."""

    size_gib: int
    ref: protocol.ImageRef
    cached: object
    fetch_s: float
    overlays: list = field(default_factory=list)
    converts: list = field(default_factory=list)
    copies: list = field(default_factory=list)
    overlay_allocated: int = 0
    classic_allocated: int = 0

    def figures(self):
        return {
            "virtual_bytes": self.cached.virtual_size_bytes,
            "base_file_bytes": self.cached.size_bytes,
            "base_allocated_bytes": allocated_bytes(self.cached.path),
            "fetch_into_cache_s": round(self.fetch_s, 4),
            "overlay_s": median(self.overlays),
            "overlay_allocated_bytes": self.overlay_allocated,
            "convert_s": median(self.converts),
            "copy_s": median(self.copies),
            "classic_s": median([a + b for a, b in zip(self.converts, self.copies, strict=True)]),
            "classic_allocated_bytes": self.classic_allocated,
            "overlay_samples": len(self.overlays),
            "classic_samples": len(self.converts),
        }


def prepare(bench, size_gib, allocated, seed):
    source = make_image(bench.work, size_gib * GIB, allocated, seed)
    ref, cached, fetch_s = bench.cache_image(source)
    print(
        f"{size_gib:>2} GiB image: virtual {cached.virtual_size_bytes} B, qcow2 file {cached.size_bytes} B, "
        f"allocated {allocated_bytes(cached.path)} B; fetched into the cache in {fetch_s:.2f} s",
        flush=True,
    )
    return Subject(size_gib, ref, cached, fetch_s)


def measure(bench, subjects, rounds):
    """Overlays of the images alternate, so a busy moment on the machine weighs on both alike."""
    for number in range(rounds):
        for _ in range(OVERLAYS_PER_ROUND):
            for subject in subjects:
                seconds, subject.overlay_allocated = bench.overlay(subject.ref)
                subject.overlays.append(seconds)
        for subject in subjects:
            convert_s, copy_s, subject.classic_allocated = bench.classic(subject.cached)
            subject.converts.append(convert_s)
            subject.copies.append(copy_s)
            latest = median(subject.overlays[-OVERLAYS_PER_ROUND:])
            print(
                f"round {number + 1}, {subject.size_gib:>2} GiB: overlay median {latest * 1000:.1f} ms, "
                f"convert {convert_s:.2f} s, copy {copy_s:.2f} s",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--dir", type=Path, default=REPO / "var", help="where the bench's files go (a subdir)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--allocated-mib", type=int, default=2048)
    parser.add_argument("--root-gib", type=int, default=20)
    parser.add_argument("--ephemeral-gib", type=int, default=0)
    args = parser.parse_args()
    if args.root_gib < max(IMAGES_GIB):
        sys.exit(f"provision_disk: --root-gib must be at least {max(IMAGES_GIB)} (the largest image)")
    args.dir.mkdir(parents=True, exist_ok=True)
    allocated_each = [min(args.allocated_mib * MIB, size * GIB) for size in IMAGES_GIB]
    check_free_space(args.dir, allocated_each)
    work = Path(tempfile.mkdtemp(prefix="bench-provision-disk-", dir=args.dir))
    # Directories o+x, as under the agent's data directory.
    work.chmod(0o711)
    try:
        bench = Bench(work, args.root_gib, args.ephemeral_gib)
        subjects = [
            prepare(bench, size, allocated, seed)
            for seed, (size, allocated) in enumerate(zip(IMAGES_GIB, allocated_each, strict=True))
        ]
        measure(bench, subjects, args.rounds)
        results = {f"{subject.size_gib}GiB": subject.figures() for subject in subjects}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    small, large = results["1GiB"], results["10GiB"]
    ratio = large["overlay_s"] / small["overlay_s"]
    share = large["overlay_s"] / large["classic_s"]
    summary = {
        "bench": "provision_disk",
        "root_gib": args.root_gib,
        "ephemeral_gib": args.ephemeral_gib,
        "images": results,
        "overlay_ratio_10_to_1": round(ratio, 3),
        "overlay_share_of_classic_10": round(share, 5),
        "targets": {
            "overlay_ratio_10_to_1_max": TARGET_RATIO_10_TO_1,
            "overlay_share_of_classic_max": TARGET_SHARE_OF_CLASSIC,
            "met": ratio <= TARGET_RATIO_10_TO_1 and share < TARGET_SHARE_OF_CLASSIC,
        },
    }
    print(
        f"overlay 10 GiB / 1 GiB = {ratio:.2f} (target <= {TARGET_RATIO_10_TO_1}); "
        f"overlay / copy-and-convert at 10 GiB = {share:.2%} (target < {TARGET_SHARE_OF_CLASSIC:.0%})"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
