"""The compute app's actions, registered with the policy."""

from apps.identity.policy import PLATFORM_KIND, READ, USE, register_action

from .states import ACTIONS

for _name, _kind, _description in [
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
]:
    register_action(_name, _kind, _description)

for _action in ACTIONS:
    if _action != "spawn":
        register_action(
            f"compute.instance.{_action}", USE, f"{_action.replace('_', ' ').capitalize()} an instance"
        )
