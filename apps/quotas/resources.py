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
    # What pages call it, short enough for a chart's axis ("Memory", not ram_mb); the description by default.
    label: str = ""

    @property
    def title(self):
        return self.label or self.description


_types = {}


def register(name, unit, description, default_project_limit=-1, *, label=""):
    _types[name] = ResourceType(name, unit, description, default_project_limit, label)


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


for _args, _label in [
    (("instances", "count", "Virtual machines", 20), "Instances"),
    (("vcpus", "count", "Virtual CPUs of all instances", 40), "vCPUs"),
    (("ram_mb", "MiB", "Memory of all instances", 81920), "Memory"),
    (("volume_gb", "GiB", "Size of all volumes", 1000), "Volume storage"),
    (("snapshots", "count", "Volume snapshots", 20), "Snapshots"),
    (("images", "count", "Images owned", 20), "Images"),
    (("image_storage_gb", "GiB", "Storage of all images, each rounded up to a GiB", 200), "Image storage"),
]:
    register(*_args, label=_label)
