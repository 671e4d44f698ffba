"""Streamed bodies: checked against their signed SHA-256 while read, over real HTTP with the client helper."""

import hashlib
import io
import os

import pytest

from apps.conftest import login
from apps.core import policy
from apps.identity.apikeys.streaming import BodyHashMismatch, VerifiedStream
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.identity.tests.signing import create_key
from cloudmgr.client import SignedClient, file_sha256

pytestmark = pytest.mark.urls("apps.identity.tests.streaming_urls")

BODY_BYTES = 3 * 1024 * 1024 + 17


@pytest.fixture
def client(live_server, root):
    project = ProjectFactory()
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_MEMBER, project)
    access_key, secret, _ = create_key(user, project)
    with SignedClient(live_server.url, access_key, secret) as signed:
        signed.user = user
        yield signed


@pytest.fixture
def upload_file(tmp_path):
    path = tmp_path / "disk.img"
    path.write_bytes(os.urandom(BODY_BYTES))
    return path


def test_a_signed_streamed_upload_is_read_in_chunks_and_accepted(client, upload_file):
    with upload_file.open("rb") as file:
        sha256 = file_sha256(file)
        response = client.upload("PUT", "/test/upload/", file, size=BODY_BYTES, content_sha256=sha256)
    assert response.status == 200, response
    body = response.json()
    assert body["sha256"] == sha256
    assert body["body_was_unread"] is True
    assert body["chunks"] > 1


def test_a_streamed_upload_whose_bytes_differ_from_the_signed_hash_fails(client, upload_file):
    declared = hashlib.sha256(b"some other image").hexdigest()
    with upload_file.open("rb") as file:
        response = client.upload("PUT", "/test/upload/", file, size=BODY_BYTES, content_sha256=declared)
    assert response.status == 400
    assert response.json()["error"]["code"] == "body_hash_mismatch"


def test_a_token_upload_may_declare_its_hash_and_is_checked_too(root):
    user = UserFactory()
    response = login(user).put(
        "/test/upload/",
        b"abc",
        content_type="application/octet-stream",
        HTTP_X_CLOUDMGR_CONTENT_SHA256=hashlib.sha256(b"abd").hexdigest(),
    )
    assert response.status_code == 400
    assert response.data["error"]["code"] == "body_hash_mismatch"


def test_the_check_fires_on_the_read_that_completes_the_declared_length():
    data = b"x" * 10
    stream = VerifiedStream(io.BytesIO(data), hashlib.sha256(b"y" * 10).hexdigest(), length=len(data))
    assert stream.read(4) == b"xxxx"
    with pytest.raises(BodyHashMismatch):
        stream.read(6)


def test_a_matching_stream_reads_to_the_end_without_error():
    data = os.urandom(1000)
    stream = VerifiedStream(io.BytesIO(data), hashlib.sha256(data).hexdigest(), length=len(data))
    chunks = list(iter(lambda: stream.read(300), b""))
    assert b"".join(chunks) == data
    assert stream.bytes_read == len(data)
