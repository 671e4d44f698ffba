"""Image stores by name: `get_store("file")`, `default_store()`.

A new kind of store (say S3-compatible) is a `Store` subclass registered here;
nothing that reads or writes image data changes.
"""

from django.conf import settings

from .base import Store, StoreError, StoreWriter
from .filesystem import FilesystemStore
from .http import HttpStore

__all__ = ["Store", "StoreError", "StoreWriter", "default_store", "get_store", "store_names"]

_KINDS = {FilesystemStore.name: FilesystemStore, HttpStore.name: HttpStore}


def get_store(name):
    try:
        return _KINDS[name]()
    except KeyError:
        raise StoreError(f"no image store named {name!r}") from None


def default_store():
    return get_store(settings.CLOUDMGR_IMAGE_DEFAULT_STORE)


def store_names():
    return list(_KINDS)
