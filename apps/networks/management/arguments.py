"""How the networks commands read names from the command line: zones, hosts, projects, address ranges."""

from argparse import ArgumentTypeError

from apps.core.errors import NotFound, ValidationFailed
from apps.identity.lookup import domain_by_path, project_by_name
from apps.infrastructure.models import Host, Zone


def zone_named(name):
    zone = Zone.objects.filter(name=name).first()
    if zone is None:
        raise NotFound(f"No zone {name!r}.")
    return zone


def host_named(name):
    host = Host.objects.filter(name=name).first()
    if host is None:
        raise NotFound(f"No host {name!r}.")
    return host


def project_named(spec):
    """DOMAIN_PATH:PROJECT_NAME, like acme/eng:web."""
    if ":" not in spec:
        raise ValidationFailed(
            "A project is DOMAIN_PATH:PROJECT_NAME (like acme/eng:web).", code="bad_project"
        )
    return project_by_name(*spec.rsplit(":", 1))


def grantees(domains, projects):
    return [domain_by_path(d) for d in domains] + [project_named(p) for p in projects]


def address_range(text):
    """FIRST-LAST, like 10.0.0.10-10.0.0.99 (IPv6 addresses contain no '-')."""
    first, dash, last = text.partition("-")
    if not dash:
        raise ArgumentTypeError(f"{text!r} is not a range FIRST-LAST")
    return first.strip(), last.strip()


def add_sharing(parser):
    parser.add_argument(
        "--shared-with-domain",
        dest="share_domains",
        action="append",
        default=[],
        help="a domain (and the domains under it) that may use it (repeatable)",
    )
    parser.add_argument(
        "--shared-with-project",
        dest="share_projects",
        action="append",
        default=[],
        help="a project, DOMAIN_PATH:PROJECT_NAME, that may use it (repeatable)",
    )


def add_subnet(parser, *, required):
    parser.add_argument("--cidr", required=required, help="the first subnet, like 10.0.0.0/24")
    parser.add_argument("--gateway", help="its gateway (default: the first address)")
    parser.add_argument(
        "--pool",
        dest="pools",
        action="append",
        default=[],
        type=address_range,
        help="an allocation pool FIRST-LAST (repeatable; default: the whole subnet)",
    )
