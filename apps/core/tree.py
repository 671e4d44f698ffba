"""The domain tree as every app sees it: ROOT, materialised domain paths, and where an object sits.

Each domain stores its path, `/<root hex>/<child hex>/…/<own hex>/` (apps.identity.models.Domain),
so the domains above one are read off its path without a query.
"""

import uuid

# ROOT has a fixed id, so its path is known without a query.
ROOT_DOMAIN_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
ROOT_PATH = f"/{ROOT_DOMAIN_ID.hex}/"


def ancestor_paths(path):
    """'/a/b/c/' -> ['/a/', '/a/b/', '/a/b/c/']: the domain and every domain above it, ROOT first."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def ancestor_ids(path):
    """The ids of the domain at `path` and of every domain above it, ROOT first."""
    return [uuid.UUID(part) for part in path.strip("/").split("/")]


class Target:
    """Where an object sits in the tree, for the policy: the domain path and, if any, the project."""

    __slots__ = ("domain_path", "project_id")

    def __init__(self, domain_path, project_id=None):
        self.domain_path = domain_path
        self.project_id = project_id

    def __repr__(self):
        return f"Target({self.domain_path!r}, {self.project_id!r})"


PLATFORM = Target(ROOT_PATH)
