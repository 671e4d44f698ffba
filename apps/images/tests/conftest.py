"""Fixtures of the image tests: a store of their own per test, and zero quota drift after each."""

import threading

import pytest

from apps.images.stores.filesystem import FilesystemStore
from apps.jobs.worker import JobWorker
from apps.quotas.recalc import recalculate

from .http_server import serving


@pytest.fixture(autouse=True)
def image_store(settings, tmp_path):
    settings.CLOUDMGR_IMAGE_STORE_DIR = str(tmp_path / "image-store")
    return FilesystemStore()


@pytest.fixture(autouse=True)
def _no_quota_drift(_django_db_helper):
    """`recalcquota` must find nothing to correct after any image test, passed or failed."""
    yield
    found = recalculate()
    assert found.clean, f"quota drift after the test: {found}"


@pytest.fixture
def files(tmp_path):
    directory = tmp_path / "files"
    directory.mkdir()
    return directory


@pytest.fixture
def refused_server(files):
    """An HTTP server on 127.0.0.2: loopback, and not allow-listed."""
    with serving("127.0.0.2", files) as server:
        yield server


@pytest.fixture
def allowed_mirror(files, settings):
    """An HTTP server on 127.0.0.3, allow-listed like an operator's local mirror (can send slowly)."""
    settings.CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS = ["127.0.0.3/32"]
    with serving("127.0.0.3", files) as server:
        yield server


@pytest.fixture
def job_worker(settings):
    """A controller job worker (the class runcontroller runs), in a thread of this process.

    Its thread has its own database connection: tests using it need a transactional database.
    """
    settings.CLOUDMGR_JOB_POLL_SECONDS = 0.2
    stopping = threading.Event()
    worker = JobWorker("test-images:1/job-1", stopping)
    worker.start()
    yield worker
    stopping.set()
    worker.join()


def stored_files(store):
    """Files in the store, staging included (what an upload left behind)."""
    return sorted(p.relative_to(store.root) for p in store.root.rglob("*") if p.is_file())
