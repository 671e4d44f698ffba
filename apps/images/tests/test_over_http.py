"""Image data over real sockets: a live server and a real `runcontroller` (cheroot) process.

The client streams its body from a generator and reads responses in chunks,
so neither side ever holds the image; broken and stalled uploads are made by
hand on a raw socket.
"""

import hashlib
import http.client
import os
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from apps.conftest import login
from apps.core.tests.controllers import wait_until
from apps.identity.tests.factories import PASSWORD
from apps.images.models import Image
from apps.images.periodic import kill_stalled_uploads

from .conftest import stored_files
from .factories import queued_image

MIB = 1024 * 1024


def pattern_chunks(count, seed=b"cloudmgr"):
    """`count` MiB of data that is cheap to make and not all the same (so a shifted byte shows)."""
    for index in range(count):
        yield hashlib.sha256(seed + index.to_bytes(4, "big")).digest() * (MIB // 32)


def pattern_sha256(count):
    digest = hashlib.sha256()
    for chunk in pattern_chunks(count):
        digest.update(chunk)
    return digest.hexdigest()


def connect(base_url):
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)


def upload(base_url, token, image_id, chunks, length):
    connection = connect(base_url)
    try:
        connection.putrequest("PUT", f"/api/v1/images/{image_id}/file")
        connection.putheader("Authorization", f"Bearer {token}")
        connection.putheader("Content-Type", "application/octet-stream")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        for chunk in chunks:
            connection.send(chunk)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def download_sha256(base_url, token, image_id, headers=None):
    """(response, sha256, size) of a download read in chunks; the connection is closed after."""
    connection = connect(base_url)
    try:
        connection.request(
            "GET",
            f"/api/v1/images/{image_id}/file",
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
        )
        response = connection.getresponse()
        digest, size = hashlib.sha256(), 0
        while chunk := response.read(MIB):
            digest.update(chunk)
            size += len(chunk)
        return response, digest.hexdigest(), size
    finally:
        connection.close()


def start_raw_upload(base_url, token, image_id, length, first_bytes):
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = (
        f"PUT /api/v1/images/{image_id}/file HTTP/1.1\r\nHost: {parts.hostname}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + first_bytes)
    return sock


def response_on(sock):
    """(status, body) of the response the server sent on a raw socket; closes the socket."""
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
        return response.status, response.read().decode(errors="replace")
    finally:
        sock.close()


def status_of(image):
    return Image.objects.get(pk=image.pk).status


@pytest.fixture
def token(member, project, transactional_db):
    return login(member, project_id=project.pk).token


def test_a_large_image_streams_up_and_down_through_a_live_server(live_server, token, project):
    image = queued_image(project)
    count = 48

    status, body = upload(live_server.url, token, image.pk, pattern_chunks(count), count * MIB)

    assert status == 200, body
    image.refresh_from_db()
    assert (image.status, image.size_bytes, image.sha256) == ("active", count * MIB, pattern_sha256(count))
    response, sha256, size = download_sha256(live_server.url, token, image.pk)
    assert (response.status, size, sha256) == (200, count * MIB, image.sha256)
    assert response.getheader("X-Image-Sha256") == image.sha256
    response, _, size = download_sha256(live_server.url, token, image.pk, {"Range": f"bytes={5 * MIB}-"})
    assert (response.status, size) == (206, (count - 5) * MIB)


def test_an_upload_cut_off_midway_leaves_the_image_killed_and_nothing_stored(
    live_server, token, project, image_store
):
    image = queued_image(project)
    sock = start_raw_upload(live_server.url, token, image.pk, 8 * MIB, os.urandom(MIB))
    wait_until(lambda: status_of(image) == Image.SAVING, what="the upload to start")

    sock.close()

    wait_until(lambda: status_of(image) == Image.KILLED, what="the cut-off upload to be killed")
    assert Image.objects.get(pk=image.pk).status_reason.startswith("incomplete_data:")
    wait_until(lambda: stored_files(image_store) == [], what="the partial data to be removed")


def test_a_stalled_upload_is_killed_by_the_sweeper_and_its_sender_is_stopped(
    live_server, token, project, image_store, settings
):
    settings.CLOUDMGR_IMAGE_UPLOAD_STALL_SECONDS = 2
    image = queued_image(project)
    sock = start_raw_upload(live_server.url, token, image.pk, 8 * MIB, os.urandom(MIB))
    wait_until(lambda: status_of(image) == Image.SAVING, what="the upload to start")

    assert kill_stalled_uploads(now=timezone.now() + timedelta(seconds=3)) == 1

    image.refresh_from_db()
    assert (image.status, image.status_reason.split(":")[0]) == (Image.KILLED, "upload_stalled")
    # More data comes after the keep-alive interval: the receiving side finds the image killed and stops.
    time.sleep(1.1)
    sock.sendall(os.urandom(MIB))
    status, reply = response_on(sock)
    assert status == 409
    assert "upload_aborted" in reply
    wait_until(lambda: stored_files(image_store) == [], what="the partial data to be removed")


@pytest.mark.processes
def test_the_controller_process_streams_uploads_and_downloads(start_controller, member, project, tmp_path):
    store_dir = tmp_path / "controller-store"
    controller = start_controller("images", environment={"CLOUDMGR_IMAGE_STORE_DIR": str(store_dir)})
    token = controller.login(member.username, PASSWORD, project_id=str(project.pk))
    status, created = controller.request(
        "POST", "/api/v1/images/", {"name": "big", "disk_format": "raw"}, token=token
    )
    assert status == 201, created
    count = 64

    status, body = upload(controller.url, token, created["id"], pattern_chunks(count), count * MIB)

    assert status == 200, body
    response, sha256, size = download_sha256(controller.url, token, created["id"])
    assert (response.status, size, sha256) == (200, count * MIB, pattern_sha256(count))
    stored = [p for p in store_dir.rglob("*") if p.is_file()]
    assert [p.stat().st_size for p in stored] == [count * MIB]
