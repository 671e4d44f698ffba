"""PostgreSQL's network types as model fields, and the operators that compare them.

Single addresses use Django's own GenericIPAddressField, which is PostgreSQL's
`inet` already and normalises IPv6 text. Django has no field for a network, so
`CidrField` maps PostgreSQL's `cidr` (a network whose host bits must be zero)
and `MacAddressField` its `macaddr` (six bytes, one canonical text form). Both
hand Python plain canonical strings, so a value compares, serialises and
prints the same everywhere.

The lookups are the containment and overlap operators of `inet`/`cidr`, for
queries ("the subnet holding this address") and for constraints ("the gateway
lies inside the subnet"); a GiST index with `inet_ops` serves them.
"""

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Lookup

MAC_PATTERN = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def canonical_network(value):
    """'10.0.0.0/24' for any accepted spelling; a network with host bits set is refused."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=True))
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not a network in CIDR notation (host bits zero).") from exc


def canonical_mac(value):
    """'fa:16:3e:01:02:03' for 'FA-16-3E-01-02-03' and the like."""
    text = str(value).strip().lower().replace("-", ":")
    if not MAC_PATTERN.match(text):
        raise ValidationError(f"{value!r} is not a MAC address (six bytes, colon-separated hex).")
    return text


class CidrField(models.Field):
    description = "An IPv4 or IPv6 network (PostgreSQL cidr)"

    def db_type(self, connection):
        return "cidr"

    def to_python(self, value):
        return None if value is None else canonical_network(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else canonical_network(value)


class MacAddressField(models.Field):
    description = "An Ethernet MAC address (PostgreSQL macaddr)"

    def db_type(self, connection):
        return "macaddr"

    def to_python(self, value):
        return None if value is None else canonical_mac(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else canonical_mac(value)


class _NetworkOperator(Lookup):
    operator = ""
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [str(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} {self.operator} ({rhs})::inet", [*lhs_params, *rhs_params]


@CidrField.register_lookup
class Contains(_NetworkOperator):
    """The network strictly contains the right side (an address, or a smaller network)."""

    lookup_name = "net_contains"
    operator = ">>"


@CidrField.register_lookup
class ContainsOrEquals(_NetworkOperator):
    lookup_name = "net_contains_or_equals"
    operator = ">>="


@CidrField.register_lookup
class Overlaps(_NetworkOperator):
    lookup_name = "net_overlaps"
    operator = "&&"
