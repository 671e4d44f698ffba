"""Build the "real guest" test images from Debian packages, and optionally upload them to a controller.

Three files land in the output directory:

- ``vmlinuz`` (aki): the Debian cloud kernel, resolved through the
  ``linux-image-cloud-amd64`` meta-package and fetched with ``apt-get download``
  (checked against the SHA-256 in apt's signed lists, cached in ``--cache-dir``);
- ``initrd.gz`` (ari): a busybox initramfs with the virtio block, virtio network and
  ACPI button modules; its ``/init`` prints, on the serial console,
  ``CLOUDMGR-DISK-TOKEN=<token>`` read from the first sector of ``/dev/vda``; with a
  NIC, it asks DHCP for its address and the metadata service for its instance id;
  then it sleeps forever (an ACPI power button press powers the guest off, so a
  graceful stop works);
- ``disk.qcow2`` (qcow2, no backing file): 64 MiB virtual, whose first sector is
  ``CLOUDMGR-TOKEN:<token>`` and newline.

plus ``token`` and ``guest.json`` (paths, token, the marker to look for, the kernel
package). Running again rebuilds the files and keeps the token already there.

The guest's serial console (kernel messages are muted once /init runs, so these
lines come whole; strip the ``\r`` of each):

    CLOUDMGR-GUEST-UP uptime=<seconds>
    CLOUDMGR-DISK vda sectors=<512-byte sectors>      one line per virtio disk
    CLOUDMGR-DISK-TOKEN=<token>                       or CLOUDMGR-DISK-TOKEN-MISSING
    CLOUDMGR-NIC eth0 mac=<MAC>                       with a NIC, then:
    CLOUDMGR-IP eth0 <address>/<mask> router=<gw>     its DHCP lease (or CLOUDMGR-DHCP-FAILED)
    CLOUDMGR-METADATA-INSTANCE-ID=<id>                from http://169.254.169.254/ (or none)
    CLOUDMGR-READY
    CLOUDMGR-POWER-OFF                                on an ACPI power-button press

``--upload URL`` then creates three images through the REST API (kernel aki/aki,
ramdisk ari/ari, machine qcow2/bare referencing both), streams each file with
``PUT /api/v1/images/{id}/file``, and prints their ids as JSON. It signs with
the API key in ``CLOUDMGR_ACCESS_KEY`` and ``CLOUDMGR_SECRET`` (environment,
never arguments: a secret in argv is visible to every local user).

Needs: apt-get, dpkg-deb, depmod and modprobe (kmod), cpio, gzip, qemu-img,
busybox-static.
"""

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = REPO / "var" / "cache" / "test-guest"
APT_ARCHIVES = Path("/var/cache/apt/archives")
KERNEL_META_PACKAGE = "linux-image-cloud-amd64"
# Each name is resolved with its dependencies in modules.dep order (virtio.ko needs virtio_ring.ko...).
GUEST_MODULES = ("virtio_pci", "virtio_blk", "virtio_net", "button", "evdev")
BUSYBOX = Path("/bin/busybox")
DISK_VIRTUAL_BYTES = 64 * 1024 * 1024
SECTOR_BYTES = 512
SECTOR_HEADER = "CLOUDMGR-TOKEN:"
CONSOLE_MARKER = "CLOUDMGR-DISK-TOKEN="
TOKEN_PATTERN = re.compile(r"[0-9a-f]{32}")
KERNEL, RAMDISK, DISK, TOKEN_FILE, MANIFEST = "vmlinuz", "initrd.gz", "disk.qcow2", "token", "guest.json"
TOOL_ENV = {"LC_ALL": "C", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

INIT_SCRIPT = f"""#!/bin/busybox sh
# cloudmgr's test guest: report the disk token on the serial console, then idle.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Kernel messages would interleave with the marker lines on the console; dmesg keeps them.
echo 1 > /proc/sys/kernel/printk
while read -r module; do
  insmod "/lib/modules/$module" || echo "CLOUDMGR-INSMOD-FAILED $module"
done < /lib/modules/load-order
echo "CLOUDMGR-GUEST-UP uptime=$(cut -d' ' -f1 /proc/uptime)"
tries=0
while [ ! -b /dev/vda ] && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
for disk in /sys/block/vd*; do
  [ -e "$disk" ] && echo "CLOUDMGR-DISK ${{disk##*/}} sectors=$(cat "$disk/size")"
done
line=$(head -c {SECTOR_BYTES} /dev/vda 2>/dev/null | head -n 1)
case "$line" in
  {SECTOR_HEADER}*) echo "{CONSOLE_MARKER}${{line#{SECTOR_HEADER}}}" ;;
  *) echo "CLOUDMGR-DISK-TOKEN-MISSING" ;;
esac
if [ -e /sys/class/net/eth0 ]; then
  ip link set lo up
  ip link set eth0 up
  echo "CLOUDMGR-NIC eth0 mac=$(cat /sys/class/net/eth0/address)"
  udhcpc -i eth0 -s /etc/udhcpc.script -t 30 -T 1 -A 1 -n -q -O staticroutes || echo "CLOUDMGR-DHCP-FAILED"
  # busybox-static's wget crashes in glibc's static name lookups: a plain HTTP/1.0 request with nc.
  id=$(printf 'GET /latest/meta-data/instance-id HTTP/1.0\\r\\nHost: 169.254.169.254\\r\\n\\r\\n' \\
       | nc -w 5 169.254.169.254 80 | tail -n 1)
  echo "CLOUDMGR-METADATA-INSTANCE-ID=${{id:-none}}"
fi
acpid -c /etc/acpi -a /etc/acpid.conf
echo "CLOUDMGR-READY"
while true; do sleep 3600; done
"""
# busybox acpid maps the power button to PWRF and runs the handler named in acpid.conf (relative to -c).
ACPID_CONF = "PWRF power-off\n"
# acpid exits at once without /var/run and /var/log (its pid and log files).
INITRD_DIRS = ("bin", "dev", "proc", "sys", "tmp", "etc/acpi", "lib/modules", "var/run", "var/log")
POWER_OFF_HANDLER = "#!/bin/sh\necho CLOUDMGR-POWER-OFF > /dev/console\npoweroff -f\n"
# udhcpc's hook: the lease's address, its default route and its classless static routes (the
# metadata service's, 169.254.169.254/32, comes that way), and one line on the console.
UDHCPC_SCRIPT = """#!/bin/sh
case "$1" in bound|renew)
  ip addr flush dev $interface
  ip addr add $ip/$mask dev $interface
  [ -n "$router" ] && ip route replace default via ${router%% *}
  set -- $staticroutes
  while [ -n "$1" ]; do
    if [ "$2" = 0.0.0.0 ]; then ip route replace $1 dev $interface; else ip route replace $1 via $2; fi
    shift 2
  done
  echo "CLOUDMGR-IP $interface $ip/$mask router=${router%% *}"
esac
"""


class BuildError(Exception):
    pass


@dataclass(frozen=True)
class KernelPackage:
    name: str
    version: str

    @property
    def deb_name(self):
        return f"{self.name}_{self.version.replace(':', '%3a')}_amd64.deb"

    @property
    def cache_key(self):
        """Also names the modules it holds: another set of modules is another entry."""
        modules = hashlib.sha256(" ".join(GUEST_MODULES).encode()).hexdigest()[:8]
        return f"{self.name}_{self.version.replace(':', '_')}_{modules}"


@dataclass(frozen=True)
class Kernel:
    vmlinuz: Path
    modules: list  # Paths, in load order


def run(command, **options):
    """Run a tool; its failure (or absence) becomes a BuildError with its own words."""
    options.setdefault("stdout", subprocess.PIPE)
    try:
        return subprocess.run(command, check=True, stderr=subprocess.PIPE, env=TOOL_ENV, **options)
    except FileNotFoundError as exc:
        raise BuildError(f"{command[0]} is not installed (see scripts/prepare.sh)") from exc
    except subprocess.CalledProcessError as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        raise BuildError(f"{' '.join(map(str, command))} failed: {stderr.strip()[:500]}") from exc


def output(command, **options):
    return run(command, text=True, **options).stdout


def resolve_kernel_package():
    """The cloud kernel package the meta-package points at today (old ABIs leave the archive)."""
    package = _meta_dependency()
    if package is None:
        # A fresh machine may have no package lists yet.
        run(["apt-get", "update", "-qq"])
        package = _meta_dependency()
    if package is None:
        raise BuildError(f"apt knows no {KERNEL_META_PACKAGE}: check /etc/apt/sources.list")
    return package


def _meta_dependency():
    # One apt-cache call: without a pkgcache.bin (Debian's container images) each one parses every list.
    try:
        fields = _package_fields(KERNEL_META_PACKAGE)
    except BuildError:
        return None
    found = re.search(r"(linux-image-[^\s,]+) \(= ([^)\s]+)\)", fields.get("Depends", ""))
    return KernelPackage(found.group(1), found.group(2)) if found else None


def _package_fields(name):
    shown = output(["apt-cache", "show", "--no-all-versions", name])
    return dict(
        line.split(": ", 1) for line in shown.splitlines() if ": " in line and not line.startswith(" ")
    )


def fetch_deb(package, cache_dir):
    """The package's .deb: from our cache, apt's archive cache, or downloaded; checked against apt's lists."""
    cached = cache_dir / package.deb_name
    fields = _package_fields(f"{package.name}={package.version}")
    for candidate in (cached, APT_ARCHIVES / package.deb_name):
        if candidate.exists() and _sha256(candidate) == fields["SHA256"]:
            return candidate
    with tempfile.TemporaryDirectory(dir=cache_dir) as work:
        # apt-get checks the download against its signed lists.
        run(["apt-get", "download", "-qq", f"{package.name}={package.version}"], cwd=work)
        os.replace(Path(work) / package.deb_name, cached)
    return cached


def extract_kernel(package, cache_dir):
    """vmlinuz and the guest's modules in load order, kept in the cache once extracted."""
    entry = cache_dir / package.cache_key
    order_file = entry / "load-order"
    if not order_file.exists():
        deb = fetch_deb(package, cache_dir)
        with tempfile.TemporaryDirectory(dir=cache_dir) as work:
            tree, staged = Path(work) / "tree", Path(work) / "entry"
            run(["dpkg-deb", "-x", str(deb), str(tree)])
            _stage_kernel(tree, staged)
            shutil.rmtree(entry, ignore_errors=True)
            os.replace(staged, entry)
        _forget_other_kernels(package, cache_dir)
    names = order_file.read_text().split()
    return Kernel(entry / KERNEL, [entry / "modules" / name for name in names])


def _forget_other_kernels(package, cache_dir):
    for path in cache_dir.glob("linux-image-*"):
        if path.name in (package.deb_name, package.cache_key):
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _stage_kernel(tree, staged):
    (release,) = (path.name for path in (tree / "lib" / "modules").iterdir())
    # The .deb ships no modules.dep.
    run(["depmod", "-b", str(tree), release])
    order = []
    for module in GUEST_MODULES:
        shown = output(["modprobe", "-d", str(tree), "-S", release, "--show-depends", module])
        for line in shown.splitlines():
            path = Path(line.split()[1])
            if path not in order:
                order.append(path)
    (staged / "modules").mkdir(parents=True)
    shutil.copyfile(tree / "boot" / f"vmlinuz-{release}", staged / KERNEL)
    for path in order:
        shutil.copyfile(path, staged / "modules" / path.name)
    (staged / "load-order").write_text("".join(f"{path.name}\n" for path in order))


def build_initrd(kernel, dest):
    """A gzip-compressed newc cpio: busybox, the modules, /init and the power-button handler."""
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "root"
        for name in INITRD_DIRS:
            (root / name).mkdir(parents=True)
        _copy_executable(BUSYBOX, root / "bin" / "busybox")
        for module in kernel.modules:
            shutil.copyfile(module, root / "lib" / "modules" / module.name)
        (root / "lib" / "modules" / "load-order").write_text("".join(f"{m.name}\n" for m in kernel.modules))
        _write_executable(root / "init", INIT_SCRIPT)
        (root / "etc" / "acpid.conf").write_text(ACPID_CONF)
        _write_executable(root / "etc" / "acpi" / "power-off", POWER_OFF_HANDLER)
        _write_executable(root / "etc" / "udhcpc.script", UDHCPC_SCRIPT)
        names = sorted(str(path.relative_to(root)) for path in root.rglob("*"))
        archive = Path(work) / "initrd.cpio"
        with archive.open("wb") as out:
            run(
                ["cpio", "--null", "-o", "-H", "newc", "--owner=0:0", "--quiet", "--reproducible"],
                cwd=root,
                input="\0".join(names).encode() + b"\0",
                stdout=out,
            )
        with (
            archive.open("rb") as source,
            _atomic_file(dest) as temp,
            temp.open("wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as packed,
        ):
            shutil.copyfileobj(source, packed, 1 << 20)


def build_disk(token, dest):
    """A qcow2 (no backing file) whose first sector starts with the token line; the rest reads as zeros."""
    with tempfile.TemporaryDirectory() as work:
        raw = Path(work) / "disk.raw"
        with raw.open("wb") as out:
            out.write(f"{SECTOR_HEADER}{token}\n".encode().ljust(SECTOR_BYTES, b"\0"))
            out.truncate(DISK_VIRTUAL_BYTES)
        with _atomic_file(dest) as temp:
            run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(temp)])


def _copy_executable(source, dest):
    shutil.copyfile(source, dest)
    dest.chmod(0o755)


def _write_executable(path, text):
    path.write_text(text)
    path.chmod(0o755)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _atomic_file(dest):
    """A temporary path next to ``dest``, renamed onto it when the block succeeds."""
    temp = dest.with_name(f".tmp-{dest.name}")
    temp.unlink(missing_ok=True)
    try:
        yield temp
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)


def _token(out_dir):
    """The token already in ``out_dir`` (so a rebuild keeps it), else a new one."""
    try:
        kept = (out_dir / TOKEN_FILE).read_text().strip()
    except FileNotFoundError:
        kept = ""
    return kept if TOKEN_PATTERN.fullmatch(kept) else secrets.token_hex(16)


def build(out_dir, cache_dir=DEFAULT_CACHE_DIR):
    """Build the three images into ``out_dir``; returns the manifest also written to guest.json."""
    out_dir, cache_dir = Path(out_dir).resolve(), Path(cache_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    package = resolve_kernel_package()
    kernel = extract_kernel(package, cache_dir)
    token = _token(out_dir)
    with _atomic_file(out_dir / KERNEL) as temp:
        shutil.copyfile(kernel.vmlinuz, temp)
    build_initrd(kernel, out_dir / RAMDISK)
    build_disk(token, out_dir / DISK)
    (out_dir / TOKEN_FILE).write_text(token + "\n")
    manifest = {
        "kernel": str(out_dir / KERNEL),
        "ramdisk": str(out_dir / RAMDISK),
        "disk": str(out_dir / DISK),
        "token": token,
        "marker": f"{CONSOLE_MARKER}{token}",
        "modules": [module.name for module in kernel.modules],
        "kernel_package": package.name,
        "kernel_package_version": package.version,
    }
    with _atomic_file(out_dir / MANIFEST) as temp:
        temp.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def upload(client, manifest, name_prefix="cloudmgr-test-guest", visibility=None):
    """Create the kernel, ramdisk and machine images and send their data; returns their ids.

    ``client`` has cloudmgr.client.SignedClient's ``request`` and ``upload``.
    """
    extra = {"visibility": visibility} if visibility else {}
    ids = {}
    for role, disk_format in (("kernel", "aki"), ("ramdisk", "ari")):
        ids[f"{role}_id"] = _upload_image(
            client,
            manifest[role],
            name=f"{name_prefix}-{role}",
            disk_format=disk_format,
            container_format=disk_format,
            **extra,
        )
    image_id = _upload_image(
        client,
        manifest["disk"],
        name=name_prefix,
        disk_format="qcow2",
        container_format="bare",
        **ids,
        **extra,
    )
    return {
        **ids,
        "image_id": image_id,
        "token": manifest["token"],
        "marker": manifest["marker"],
    }


def _upload_image(client, path, **fields):
    created = client.request("POST", "/api/v1/images/", body=fields)
    if created.status != 201:
        raise BuildError(f"creating image {fields['name']} answered {created.status}: {created.body[:500]!r}")
    image_id = created.json()["id"]
    with open(path, "rb") as data:
        sent = client.upload(
            "PUT",
            f"/api/v1/images/{image_id}/file",
            data,
            size=os.fstat(data.fileno()).st_size,
            content_sha256=_sha256(path),
        )
    if sent.status != 200 or sent.json().get("status") != "active":
        raise BuildError(f"uploading {path} to image {image_id} answered {sent.status}: {sent.body[:500]!r}")
    return image_id


def _signed_client(url):
    sys.path.insert(0, str(REPO))
    from cloudmgr.client import SignedClient

    try:
        access_key, secret = os.environ["CLOUDMGR_ACCESS_KEY"], os.environ["CLOUDMGR_SECRET"]
    except KeyError as exc:
        raise BuildError(f"--upload signs with an API key: set {exc.args[0]} in the environment") from exc
    return SignedClient(url, access_key, secret)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out_dir", type=Path, help="where the images, token and guest.json go")
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="kept .deb and extracted kernel"
    )
    parser.add_argument(
        "--upload", metavar="URL", help="controller to upload the images to (e.g. http://host:8000)"
    )
    parser.add_argument(
        "--name", default="cloudmgr-test-guest", help="machine image name (kernel/ramdisk get suffixes)"
    )
    parser.add_argument("--visibility", choices=("private", "shared", "public"))
    args = parser.parse_args(argv)
    try:
        # Made first, so missing credentials stop the run before the build.
        client = _signed_client(args.upload) if args.upload else None
        manifest = build(args.out_dir, args.cache_dir)
        if client is None:
            result = manifest
        else:
            with client:
                result = upload(client, manifest, args.name, args.visibility)
    except (BuildError, OSError) as exc:
        print(f"build_test_guest: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
