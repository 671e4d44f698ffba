"""Storage quotas count whole GiB, each object's size rounded up on its own."""

import pytest

from apps.identity.tests.factories import ProjectFactory, UserFactory
from apps.quotas import services
from apps.quotas.resources import GIB, gib_rounded_up


@pytest.mark.parametrize(
    ("size_bytes", "gib"),
    [(0, 0), (1, 1), (GIB - 1, 1), (GIB, 1), (GIB + 1, 2), (10 * GIB, 10), (10 * GIB + 512, 11)],
)
def test_a_size_counts_as_whole_gib_rounded_up(size_bytes, gib):
    assert gib_rounded_up(size_bytes) == gib


def test_a_negative_size_is_refused():
    with pytest.raises(ValueError, match="negative"):
        gib_rounded_up(-1)


def test_each_object_is_rounded_up_on_its_own_not_their_sum(root):
    project = ProjectFactory()
    sizes = [GIB // 3] * 3

    for size in sizes:
        services.claim(project, {"image_storage_gb": gib_rounded_up(size)}, UserFactory())

    assert gib_rounded_up(sum(sizes)) == 1
    assert services.usage_of(project)["image_storage_gb"][1] == 3
