"""Small checks the networks services share."""

import re

from apps.core.errors import ValidationFailed

from ..models.hosts import PHYSICAL_NETWORK_PATTERN
from ..models.networks import NAME_LENGTH

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def checked_name(name, what, *, required=True):
    name = (name or "").strip()
    if required and not name:
        raise ValidationFailed(f"A {what} needs a name.", code="bad_name")
    if len(name) > NAME_LENGTH or _CONTROL.search(name):
        raise ValidationFailed(
            f"A {what}'s name has at most {NAME_LENGTH} printable characters.", code="bad_name"
        )
    return name


def checked_physical_network(name):
    if not isinstance(name, str) or not re.match(PHYSICAL_NETWORK_PATTERN, name):
        raise ValidationFailed(
            "A physical network is named with 1-64 of A-Z a-z 0-9 _ - (like physnet1).",
            code="bad_physical_network",
        )
    return name
