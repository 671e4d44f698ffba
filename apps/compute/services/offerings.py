"""Service offerings: cloud admins create, change and delete them; tenants pick from them."""

from apps.audit.recorder import audited
from apps.core.tree import PLATFORM
from apps.identity.services.common import require, save_unique
from apps.infrastructure.services.common import refuse_if_used

from ..models import ServiceOffering


def _tags(tags):
    return sorted({t.strip() for t in tags or () if t.strip()})


def create_offering(actor, *, name, vcpus, ram_mb, root_disk_gb, domains=(), **options):
    action = "compute.offering.create"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "Only cloud administrators create service offerings.")
        options["host_tags"] = _tags(options.get("host_tags"))
        offering = ServiceOffering(
            name=name, vcpus=vcpus, ram_mb=ram_mb, root_disk_gb=root_disk_gb, **options
        )
        op.object = offering
        save_unique(offering, f"A service offering named '{name}' already exists.")
        offering.domains.set(domains)
    return offering


def update_offering(actor, offering, *, domains=None, **changes):
    """Change what an offering is called, who sees it and which hosts it needs; its sizes are fixed.

    Instances keep the sizes they were created with, so changing them would make
    the catalogue lie about running instances: make a new offering instead.
    """
    action = "compute.offering.update"
    with audited(actor, action, target=PLATFORM, obj=offering) as op:
        require(actor, action, PLATFORM, "Only cloud administrators change service offerings.")
        if "host_tags" in changes:
            changes["host_tags"] = _tags(changes["host_tags"])
        op.details = {"changes": {k: v for k, v in changes.items() if getattr(offering, k) != v}}
        for field, value in changes.items():
            setattr(offering, field, value)
        save_unique(offering, f"A service offering named '{offering.name}' already exists.")
        if domains is not None:
            offering.domains.set(domains)
            op.details["domains"] = [str(d.pk) for d in domains]
    return offering


def delete_offering(actor, offering):
    action = "compute.offering.delete"
    with audited(actor, action, target=PLATFORM, obj=offering):
        require(actor, action, PLATFORM, "Only cloud administrators delete service offerings.")
        refuse_if_used(
            offering,
            f"Service offering {offering} is used by instances; disable it instead.",
            "offering_in_use",
        )
