"""Bench: moving a 1 GiB image through the API, against what the machine can do on the same path.

It starts a throwaway PostgreSQL cluster (bench/pgcluster.py), creates and
migrates the database `cloudmgr_bench_images`, makes a project and a member,
and starts a real controller (`manage.py runcontroller`) whose image store is a
directory next to the source file (same disk). Then, on one file of `--size-mib`
MiB (default 1024) in the page cache:

- `cp`: a plain copy of the file to the same directory;
- bare loop: one process sends the file over a loopback TCP socket (sendfile),
  another receives it with `recv_into` into one reused 1 MiB buffer, then
  `sha256.update`, then `os.write` to a file: the practical limit of a
  receiving path that hashes and stores;
- upload: `PUT /api/v1/images/{id}/file` with the file as the body (sendfile),
  timed until the controller answers (the data is then hashed, inspected,
  fsynced and the image active);
- download: `GET /api/v1/images/{id}/file`, received like the bare loop's
  receiver does (recv_into, sha256, os.write), checked against the upload's sha256;
- the controller's memory growth during each transfer: its peak RSS (VmHWM,
  reset through /proc/PID/clear_refs before each transfer, and sampled) minus
  its RSS before.

Targets: upload and download each at least 60% of the bare loop, memory growth
under 50 MB. MB is 10^6 bytes. The last line printed is one JSON object.

    .venv/bin/python bench/image_transfer.py [--size-mib 1024] [--keep-dir]
"""

import argparse
import hashlib
import http.client
import json
import multiprocessing
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from common import REPOSITORY, cpu_seconds
from pgcluster import Cluster

from apps.core.tests.controllers import ControllerProcess

DATABASE = "cloudmgr_bench_images"
MIB = 1024 * 1024
MB = 1_000_000
TARGET_SHARE_OF_BARE_LOOP = 0.60
TARGET_RSS_GROWTH_MB = 50
USERNAME = "bench-images"


def prepare_database(cluster, password):
    """Migrate, bootstrap, and make a project with a member who can upload; returns the project id."""
    cluster.create_database(DATABASE)
    from django.core.management import call_command
    from django.db import connections

    from apps.core import policy
    from apps.core.actor import Actor
    from apps.identity.models import Role, RoleAssignment
    from apps.identity.services.bootstrap import bootstrap
    from apps.identity.services.projects import create_project
    from apps.identity.services.users import create_user

    call_command("migrate", verbosity=0)
    root, _ = bootstrap()
    actor = Actor.system("bench")
    project = create_project(actor, domain=root, name="bench-images")
    user = create_user(actor, domain=root, username=USERNAME, password=password)
    RoleAssignment.objects.create(
        user=user, role=Role.objects.get(name=policy.PROJECT_MEMBER), project=project
    )
    connections.close_all()
    return str(project.pk)


def write_source(path, size_bytes):
    """Incompressible data, written once; it stays in the page cache for every measurement."""
    block = os.urandom(MIB)
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for index in range(size_bytes // MIB):
            chunk = index.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def timed_cp(source, target):
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    return time.perf_counter() - started


def receive_into(sock, path, size_bytes):
    """The receiving side of the path: recv_into one reused buffer, hash, write.

    Returns (sha256, CPU seconds this thread spent on it).
    """
    cpu_started = time.thread_time()
    buffer = bytearray(MIB)
    view = memoryview(buffer)
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        received = 0
        while received < size_bytes:
            count = sock.recv_into(view, min(MIB, size_bytes - received))
            if not count:
                raise ConnectionError(f"the sender stopped after {received} bytes")
            digest.update(view[:count])
            written = 0
            while written < count:
                written += os.write(fd, view[written:count])
            received += count
    finally:
        os.close(fd)
    return digest.hexdigest(), time.thread_time() - cpu_started


def _send_file(port, source):
    with socket.create_connection(("127.0.0.1", port)) as sock, open(source, "rb") as handle:
        sock.sendfile(handle)


def timed_bare_loop(source, target, size_bytes):
    with socket.create_server(("127.0.0.1", 0)) as server:
        sender = multiprocessing.Process(target=_send_file, args=(server.getsockname()[1], source))
        started = time.perf_counter()
        sender.start()
        connection, _ = server.accept()
        with connection:
            sha256, cpu = receive_into(connection, target, size_bytes)
        elapsed = time.perf_counter() - started
        sender.join()
    return elapsed, sha256, cpu


def _status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


class ControllerWatch:
    """During a transfer: the controller's RSS before and peak (VmHWM after a reset, and a 20 ms
    sampler), and the CPU time it used."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self.before_kib = _status_kib(self.pid, "VmRSS")
        self.cpu_before = cpu_seconds(self.pid)
        self.sampled_kib = self.before_kib
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.sampled_kib = max(self.sampled_kib, _status_kib(self.pid, "VmRSS"))

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.sampled_kib, _status_kib(self.pid, "VmHWM"))
        self.cpu = cpu_seconds(self.pid) - self.cpu_before

    @property
    def growth_mb(self):
        return (self.peak_kib - self.before_kib) * 1024 / MB


def read_response(sock):
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response


def timed_upload(port, token, image_id, source, size_bytes):
    with socket.create_connection(("127.0.0.1", port)) as sock, open(source, "rb") as handle:
        head = (
            f"PUT /api/v1/images/{image_id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {size_bytes}\r\nConnection: close\r\n\r\n"
        )
        started = time.perf_counter()
        sock.sendall(head.encode())
        sock.sendfile(handle)
        response = read_response(sock)
        body = json.loads(response.read())
        elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"upload answered {response.status}: {body}")
    return elapsed, body


def timed_download(port, token, image_id, target, size_bytes):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        head = (
            f"GET /api/v1/images/{image_id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        started = time.perf_counter()
        sock.sendall(head.encode())
        head_bytes = b""
        while b"\r\n\r\n" not in head_bytes:
            head_bytes += sock.recv(1)
        status_line = head_bytes.split(b"\r\n", 1)[0]
        if b" 200 " not in status_line:
            raise SystemExit(f"download answered {status_line!r}")
        sha256, _ = receive_into(sock, target, size_bytes)
        elapsed = time.perf_counter() - started
    return elapsed, sha256


def rate(size_bytes, seconds):
    return round(size_bytes / seconds / MB, 1)


def measure_round(controller, token, source, work, size_bytes, source_sha256):
    """cp, the bare loop, an upload of a new image, its download, the bare loop again.

    Each starts after os.sync(), so none pays for the write-back of the one before; the
    copies are deleted only at the end of the round, so no deletion (and its discards on
    this disk) lands inside a measurement. The bare loop runs before the upload and after
    the download: each transfer is compared with the mean of the two.
    """
    scratch = work / "round"
    scratch.mkdir()
    os.sync()
    cp_seconds = timed_cp(source, scratch / "cp-copy")
    os.sync()
    bare_before, bare_sha256, bare_cpu = timed_bare_loop(source, scratch / "bare-before", size_bytes)
    assert bare_sha256 == source_sha256, "the bare loop received other bytes"
    status, image = controller.request(
        "POST", "/api/v1/images/", {"name": "bench", "disk_format": "raw"}, token=token
    )
    assert status == 201, image
    os.sync()
    with ControllerWatch(controller.pid) as upload:
        upload_seconds, uploaded = timed_upload(controller.port, token, image["id"], source, size_bytes)
    assert uploaded["sha256"] == source_sha256, "the controller stored other bytes"
    os.sync()
    with ControllerWatch(controller.pid) as download:
        download_seconds, download_sha256 = timed_download(
            controller.port, token, image["id"], scratch / "downloaded", size_bytes
        )
    assert download_sha256 == source_sha256, "the download returned other bytes"
    os.sync()
    bare_after, _, _ = timed_bare_loop(source, scratch / "bare-after", size_bytes)
    shutil.rmtree(scratch)
    os.sync()
    gib = size_bytes / (1024 * MIB)
    return {
        "cp_mb_s": rate(size_bytes, cp_seconds),
        "bare_loop_mb_s": rate(size_bytes, (bare_before + bare_after) / 2),
        "upload_mb_s": rate(size_bytes, upload_seconds),
        "download_mb_s": rate(size_bytes, download_seconds),
        "upload_rss_growth_mb": round(upload.growth_mb, 1),
        "download_rss_growth_mb": round(download.growth_mb, 1),
        "bare_loop_receiver_cpu_s_per_gib": round(bare_cpu / gib, 2),
        "upload_controller_cpu_s_per_gib": round(upload.cpu / gib, 2),
        "download_controller_cpu_s_per_gib": round(download.cpu / gib, 2),
    }


def summary(rounds, size_bytes):
    """Medians over the rounds (the machine is shared: single runs swing); memory: the worst round."""
    figures = {"size_bytes": size_bytes, "rounds": len(rounds)}
    for name in rounds[0]:
        values = [r[name] for r in rounds]
        figures[name] = max(values) if "rss" in name else round(statistics.median(values), 2)
    for kind in ("upload", "download"):
        shares = [r[f"{kind}_mb_s"] / r["bare_loop_mb_s"] for r in rounds]
        figures[f"{kind}_share_of_bare_loop"] = round(statistics.median(shares), 2)
    figures["load_average_1m"] = round(os.getloadavg()[0], 1)
    figures["targets_met"] = (
        figures["upload_share_of_bare_loop"] >= TARGET_SHARE_OF_BARE_LOOP
        and figures["download_share_of_bare_loop"] >= TARGET_SHARE_OF_BARE_LOOP
        and max(figures["upload_rss_growth_mb"], figures["download_rss_growth_mb"]) < TARGET_RSS_GROWTH_MB
    )
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep-dir", action="store_true", help="leave the work directory for a look")
    args = parser.parse_args()
    size_bytes = args.size_mib * MIB
    secret_key = secrets.token_urlsafe(40)
    password = secrets.token_urlsafe(16)
    work = Path(tempfile.mkdtemp(prefix="cloudmgr-bench-images-", dir=REPOSITORY / "var"))
    rounds = []
    try:
        with Cluster() as cluster:
            print(f"PostgreSQL cluster on port {cluster.port}; work directory {work}", flush=True)
            cluster.setup_django(DATABASE, secret_key)
            project_id = prepare_database(cluster, password)
            source = work / "source.raw"
            source_sha256 = write_source(source, size_bytes)
            controller = ControllerProcess(
                "bench",
                log_path=work / "controller.log",
                environment={
                    "CLOUDMGR_DATABASE_URL": cluster.url(DATABASE),
                    "CLOUDMGR_SECRET_KEY": secret_key,
                    "CLOUDMGR_IMAGE_STORE_DIR": str(work / "store"),
                    "CLOUDMGR_JOB_WORKERS": "0",
                    "CLOUDMGR_PERIODIC_TICK_SECONDS": "3600",
                    "CLOUDMGR_HTTP_THREADS": "4",
                },
            )
            try:
                controller.wait_ready()
                _, body = controller.request(
                    "POST",
                    "/api/v1/auth/tokens/",
                    {"username": USERNAME, "password": password, "project_id": project_id},
                )
                for number in range(args.rounds):
                    rounds.append(
                        measure_round(controller, body["token"], source, work, size_bytes, source_sha256)
                    )
                    print(f"round {number + 1}: {json.dumps(rounds[-1])}", flush=True)
            finally:
                controller.stop()
    finally:
        if not args.keep_dir:
            shutil.rmtree(work, ignore_errors=True)
    figures = summary(rounds, size_bytes)
    print(
        f"medians of {len(rounds)} rounds: upload {figures['upload_mb_s']} MB/s"
        f" ({figures['upload_share_of_bare_loop']:.0%} of the bare loop),"
        f" download {figures['download_mb_s']} MB/s"
        f" ({figures['download_share_of_bare_loop']:.0%}), bare loop {figures['bare_loop_mb_s']} MB/s,"
        f" cp {figures['cp_mb_s']} MB/s; controller RSS growth at most"
        f" {figures['upload_rss_growth_mb']} MB (upload) / {figures['download_rss_growth_mb']} MB (download)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
