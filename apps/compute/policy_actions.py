"""The compute app's policy actions (what a role may be allowed to do), registered in its ready()."""

from apps.core.policy import PLATFORM_KIND, READ, USE

from .host_audit import AUDIT_READ, AUDIT_RUN
from .prefetch import PREFETCH
from .states import TRANSITIONS

POLICY_ACTIONS = [
    ("compute.offering.read", READ, "See the service offerings available to one's domain"),
    ("compute.offering.create", PLATFORM_KIND, "Create a service offering"),
    ("compute.offering.update", PLATFORM_KIND, "Change, enable or disable a service offering"),
    ("compute.offering.delete", PLATFORM_KIND, "Delete an unused service offering"),
    ("compute.keypair.read", READ, "See a project's SSH keypairs"),
    ("compute.keypair.create", USE, "Import or generate an SSH keypair"),
    ("compute.keypair.delete", USE, "Delete an SSH keypair"),
    ("compute.affinity_group.read", READ, "See a project's affinity groups"),
    ("compute.affinity_group.create", USE, "Create an affinity or anti-affinity group"),
    ("compute.affinity_group.delete", USE, "Delete an empty affinity group"),
    ("compute.instance.read", READ, "See instances, their state and console log"),
    ("compute.instance.create", USE, "Launch an instance"),
    ("compute.instance.console_log", USE, "Read an instance's serial console log"),
    *(
        (f"compute.instance.{action}", USE, f"{action.replace('_', ' ').capitalize()} an instance")
        for action in TRANSITIONS
        if action != "spawn"
    ),
    (AUDIT_READ, READ, "See the host audit's findings (drift between hosts and the database)"),
    (AUDIT_RUN, PLATFORM_KIND, "Run the host audit now"),
    (PREFETCH, PLATFORM_KIND, "Fetch an image into hosts' caches ahead of use"),
]
