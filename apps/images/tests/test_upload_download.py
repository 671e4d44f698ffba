"""Uploading and downloading image data through the API, with real files."""

import hashlib

import pytest

from apps.images.models import Image
from apps.quotas import services as quotas

from . import crafted
from .conftest import stored_files


def create(api, **fields):
    response = api.post("/api/v1/images/", {"name": "disk", "disk_format": "raw", **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.data["id"]


def put_file(api, image_id, content, **headers):
    return api.generic(
        "PUT",
        f"/api/v1/images/{image_id}/file",
        content,
        content_type="application/octet-stream",
        **headers,
    )


def body_of(response):
    return b"".join(response.streaming_content)


def test_an_uploaded_image_round_trips_with_its_sha256_and_a_range_request(api, project, files):
    content = crafted.random_raw(files, 3 * 1024 * 1024 + 17).read_bytes()
    image_id = create(api)

    uploaded = put_file(api, image_id, content)

    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.data["status"] == "active"
    assert uploaded.data["size_bytes"] == len(content)
    assert uploaded.data["sha256"] == hashlib.sha256(content).hexdigest()
    whole = api.get(f"/api/v1/images/{image_id}/file")
    assert whole.status_code == 200
    assert whole["X-Image-Sha256"] == hashlib.sha256(content).hexdigest()
    assert whole["Content-Length"] == str(len(content))
    assert body_of(whole) == content
    part = api.get(f"/api/v1/images/{image_id}/file/", HTTP_RANGE="bytes=1048570-1048585")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 1048570-1048585/{len(content)}"
    assert body_of(part) == content[1048570:1048586]
    tail = api.get(f"/api/v1/images/{image_id}/file", HTTP_RANGE="bytes=-10")
    assert body_of(tail) == content[-10:]
    assert quotas.usage_of(project)["image_storage_gb"][1] == 1
    head = api.head(f"/api/v1/images/{image_id}/file")
    assert (head.status_code, head["Content-Length"], head.content) == (200, str(len(content)), b"")


def test_a_range_past_the_end_is_a_416_naming_the_size(api, files):
    image_id = create(api)
    put_file(api, image_id, b"0123456789")

    response = api.get(f"/api/v1/images/{image_id}/file", HTTP_RANGE="bytes=10-20")

    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10"
    assert response.data["error"]["code"] == "range_not_satisfiable"


def test_an_image_without_data_answers_204(api):
    image_id = create(api)

    assert api.get(f"/api/v1/images/{image_id}/file").status_code == 204


@pytest.mark.parametrize(
    ("disk_format", "make"),
    [
        ("qcow2", crafted.qcow2),
        ("vmdk", crafted.vmdk_sparse),
        ("vdi", crafted.vdi),
        ("vhd", crafted.vhd),
        ("iso", crafted.iso),
    ],
)
def test_a_well_formed_image_of_each_format_becomes_active_with_its_virtual_size(
    api, files, disk_format, make
):
    path = make(files)
    image_id = create(api, disk_format=disk_format)

    response = put_file(api, image_id, path.read_bytes())

    assert response.status_code == 200, response.content
    assert response.data["status"] == "active"
    assert response.data["virtual_size_bytes"] >= 64 * 2048


@pytest.mark.parametrize(
    ("declared", "make", "code"),
    [
        ("qcow2", crafted.qcow2_with_backing_file, "backing_file"),
        ("qcow2", crafted.qcow2_with_data_file, "data_file"),
        ("vmdk", crafted.vmdk_flat_extent, "vmdk_extent"),
        (
            "vmdk",
            lambda d: crafted.created(d, "flat.vmdk", "vmdk", "1M", "-o", "subformat=monolithicFlat"),
            "vmdk_extent",
        ),
        ("raw", crafted.qcow2, "format_mismatch"),
        ("qcow2", crafted.vdi, "format_mismatch"),
        ("qcow2", lambda d: crafted.qcow2(d, size="3T"), "virtual_size_too_large"),
        ("iso", lambda d: crafted.random_raw(d, 40000), "format_mismatch"),
    ],
    ids=[
        "qcow2-backing-file",
        "qcow2-data-file",
        "vmdk-extent-on-a-host-file",
        "vmdk-monolithic-flat",
        "qcow2-declared-raw",
        "vdi-declared-qcow2",
        "virtual-size-above-the-maximum",
        "raw-declared-iso",
    ],
)
def test_an_unsafe_or_mislabelled_image_is_refused_and_killed_leaving_nothing_stored(
    api, project, files, image_store, settings, declared, make, code
):
    settings.CLOUDMGR_IMAGE_MAX_VIRTUAL_SIZE_BYTES = 2 * 1024**4
    path = make(files)
    image_id = create(api, disk_format=declared)

    response = put_file(api, image_id, path.read_bytes())

    assert response.status_code == 400, response.content
    assert response.data["error"]["code"] == code
    image = Image.objects.get(pk=image_id)
    assert image.status == Image.KILLED
    assert image.status_reason.startswith(f"{code}:")
    assert stored_files(image_store) == []
    assert quotas.usage_of(project)["image_storage_gb"][1] == 0
    assert api.get(f"/api/v1/images/{image_id}/file").status_code == 204


def test_an_upload_without_a_content_length_is_refused_and_the_image_stays_queued(api):
    image_id = create(api)

    response = api.generic("PUT", f"/api/v1/images/{image_id}/file", b"", HTTP_TRANSFER_ENCODING="chunked")

    assert response.status_code == 411
    assert Image.objects.get(pk=image_id).status == Image.QUEUED


def test_data_can_be_sent_only_once(api):
    image_id = create(api)
    put_file(api, image_id, b"first")

    response = put_file(api, image_id, b"second")

    assert response.status_code == 409
    assert response.data["error"]["code"] == "image_not_queued"
    assert body_of(api.get(f"/api/v1/images/{image_id}/file")) == b"first"


def test_a_body_that_does_not_match_its_declared_sha256_kills_the_image(api, image_store):
    image_id = create(api)

    response = put_file(api, image_id, b"the real bytes", HTTP_X_CLOUDMGR_CONTENT_SHA256="0" * 64)

    assert response.status_code == 400
    assert response.data["error"]["code"] == "body_hash_mismatch"
    assert Image.objects.get(pk=image_id).status == Image.KILLED
    assert stored_files(image_store) == []


def test_a_body_matching_its_declared_sha256_is_accepted(api):
    image_id = create(api)
    content = b"the real bytes"

    response = put_file(
        api, image_id, content, HTTP_X_CLOUDMGR_CONTENT_SHA256=hashlib.sha256(content).hexdigest()
    )

    assert response.status_code == 200
    assert response.data["status"] == "active"
