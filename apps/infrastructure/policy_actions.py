"""The infrastructure app's policy actions (what a role may be allowed to do), registered in its ready()."""

from apps.core.policy import PLATFORM_KIND, READ

POLICY_ACTIONS = [
    ("infrastructure.zone.read", READ, "See the availability zones"),
    ("infrastructure.zone.create", PLATFORM_KIND, "Create an availability zone"),
    ("infrastructure.zone.update", PLATFORM_KIND, "Rename, describe, enable or disable a zone"),
    ("infrastructure.zone.delete", PLATFORM_KIND, "Delete a zone without hosts"),
    ("infrastructure.host.read", READ, "See hypervisor hosts, their capacity and allocation"),
    ("infrastructure.host.create", PLATFORM_KIND, "Add a host and get its enrollment token"),
    ("infrastructure.host.update", PLATFORM_KIND, "Enable, disable, tag, set ratios and reserves of a host"),
    ("infrastructure.host.delete", PLATFORM_KIND, "Remove a host that holds nothing"),
    ("infrastructure.host.enroll", PLATFORM_KIND, "Issue a new enrollment token for a host"),
]
