"""The catalogue of quota resource types. Apps add theirs with `register`.

Storage resources count whole GiB: each object's size is rounded up on its own.
"""

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class ResourceType:
    name: str
    unit: str
    description: str
    default_project_limit: int = -1


_types = {}


def register(name, unit, description, default_project_limit=-1):
    _types[name] = ResourceType(name, unit, description, default_project_limit)


def resource_types():
    return dict(_types)


def get(name):
    return _types[name]


def gib_rounded_up(size_bytes):
    """Whole GiB an object of `size_bytes` counts for: any started GiB counts in full."""
    size_bytes = int(size_bytes)
    if size_bytes < 0:
        raise ValueError(f"a size cannot be negative ({size_bytes} bytes)")
    return -(-size_bytes // GIB)


for _args in [
    ("instances", "count", "Virtual machines", 20),
    ("vcpus", "count", "Virtual CPUs of all instances", 40),
    ("ram_mb", "MiB", "Memory of all instances", 81920),
    ("volume_gb", "GiB", "Size of all volumes", 1000),
    ("snapshots", "count", "Volume snapshots", 20),
    ("images", "count", "Images owned", 20),
    ("image_storage_gb", "GiB", "Storage of all images, each rounded up to a GiB", 200),
]:
    register(*_args)
