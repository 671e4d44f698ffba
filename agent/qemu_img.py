"""qemu-img, run with the format always given and under resource limits.

Every call names the input format (``-f``/``-F``): nothing here lets qemu probe
a format from the file's content. ``info`` runs under prlimit (address space
and CPU time), as a crafted image header can make qemu-img use a lot of both.
"""

import json
import subprocess

QEMU_IMG = "qemu-img"
INFO_ADDRESS_SPACE_BYTES = 1024 * 1024 * 1024
INFO_CPU_SECONDS = 30
INFO_TIMEOUT_SECONDS = 60


class QemuImgError(Exception):
    pass


def _run(args, timeout=None, limited=False):
    command = [QEMU_IMG, *args]
    if limited:
        command = [
            "prlimit",
            f"--as={INFO_ADDRESS_SPACE_BYTES}",
            f"--cpu={INFO_CPU_SECONDS}",
            "--",
            *command,
        ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"LC_ALL": "C", "PATH": "/usr/local/bin:/usr/bin:/bin"},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise QemuImgError(f"qemu-img {args[0]} took longer than {timeout} s") from exc
    if done.returncode != 0:
        raise QemuImgError(f"qemu-img {args[0]} failed: {done.stderr.strip()[:500]}")
    return done.stdout


def info(path, fmt, force_share=False):
    """``qemu-img info`` of one file, as a dict; the backing file is not opened."""
    args = ["info", "--output=json", "-f", fmt]
    if force_share:
        args.append("-U")
    return json.loads(_run([*args, str(path)], timeout=INFO_TIMEOUT_SECONDS, limited=True))


def info_chain(path, fmt="qcow2"):
    """``qemu-img info`` of a disk and each file of its backing chain, the disk first (``-U``: the disk
    may be in use). Each backing file is opened with the format recorded in its child (``-F``)."""
    args = ["info", "--backing-chain", "--output=json", "-U", "-f", fmt, str(path)]
    return json.loads(_run(args, timeout=INFO_TIMEOUT_SECONDS, limited=True))


def backing_chain(path, fmt="qcow2"):
    """The files of a disk's backing chain, the disk first."""
    return [entry["filename"] for entry in info_chain(path, fmt)]


def rebase_unsafe(path, backing, backing_format):
    """Point a qcow2 at another backing file without reading either (``-u``): the data is the same."""
    args = ["rebase", "-u", "-f", "qcow2", "-F", backing_format, "-b", str(backing), str(path)]
    _run(args, timeout=INFO_TIMEOUT_SECONDS, limited=True)


def resize(path, size_bytes):
    """Grow a qcow2 disk's virtual size (never shrinks: the caller checks)."""
    _run(["resize", "-q", "-f", "qcow2", str(path), str(size_bytes)], timeout=INFO_TIMEOUT_SECONDS)


def create_overlay(base, base_format, dest, size_bytes):
    """A qcow2 file backed by ``base``; ``size_bytes`` at least the base's virtual size."""
    _run(["create", "-q", "-f", "qcow2", "-F", base_format, "-b", str(base), str(dest), str(size_bytes)])


def create_blank(dest, size_bytes):
    _run(["create", "-q", "-f", "qcow2", str(dest), str(size_bytes)])


def convert_to_qcow2(source, source_format, dest, force_share=False):
    """Flatten ``source`` (with its backing chain) into a standalone qcow2 file."""
    args = ["convert", "-q", "-f", source_format, "-O", "qcow2"]
    if force_share:
        args.append("-U")
    _run([*args, str(source), str(dest)])
