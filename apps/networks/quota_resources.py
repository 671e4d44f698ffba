"""The networks app's quota resources, registered with the quotas app's catalogue.

Each is claimed in the transaction that creates the object, by that object as
the holder (so `recalcquota` finds an orphan claim when its object is gone),
and released when it is deleted. A project's default security group and its
first rules, which the project did not ask for, hold nothing.
"""

from apps.quotas import resources

# (name, description, default project limit, what pages call it)
RESOURCES = [
    ("networks", "Networks", 10, "Networks"),
    ("subnets", "Subnets", 20, "Subnets"),
    ("ports", "Ports (NICs and unattached ports)", 100, "Ports"),
    ("routers", "Routers", 10, "Routers"),
    ("floating_ips", "Floating IP addresses", 10, "Floating IPs"),
    ("security_groups", "Security groups besides the default one", 10, "Security groups"),
    ("security_group_rules", "Security group rules", 100, "Group rules"),
]


def register():
    for name, description, default, label in RESOURCES:
        resources.register(name, "count", description, default, label=label)
