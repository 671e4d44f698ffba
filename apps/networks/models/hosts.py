"""Each host's network facts as the controller knows them: its role, and its physical networks.

A physical network is a name (`physnet1`, `public`) that networks refer to; each
host maps the names it carries to one of its own interfaces. The agent touches
no interface that is not named here. A network node runs routers and DHCP
servers. These rows belong to the networks app and point at infrastructure's
hosts, which know nothing of them.
"""

from django.core.validators import RegexValidator
from django.db import models

from .networks import NAME_LENGTH

# Linux interface names: at most 15 characters, none of '/', ':' or whitespace.
INTERFACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$"
interface_validator = RegexValidator(
    INTERFACE_PATTERN, "An interface name has 1-15 of A-Z a-z 0-9 _ . - and starts with a letter or digit."
)
PHYSICAL_NETWORK_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
physical_network_validator = RegexValidator(
    PHYSICAL_NETWORK_PATTERN,
    "A physical network name has 1-64 of A-Z a-z 0-9 _ - and starts with a letter or digit.",
)


class HostNetworkConfig(models.Model):
    host = models.OneToOneField(
        "infrastructure.Host", on_delete=models.CASCADE, related_name="network_config"
    )
    network_node = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    # What the host's agent last reported of its network (agent.network_protocol.ObservedNetworkState),
    # the desired state's generation it compared with, and when: the host's network state page.
    observed = models.JSONField(null=True, blank=True)
    observed_generation = models.BigIntegerField(null=True, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"network config of {self.host_id}"


class HostPhysicalNetwork(models.Model):
    host = models.ForeignKey(
        "infrastructure.Host", on_delete=models.CASCADE, related_name="physical_networks"
    )
    physical_network = models.CharField(max_length=NAME_LENGTH, validators=[physical_network_validator])
    interface = models.CharField(max_length=15, validators=[interface_validator])

    class Meta:
        ordering = ["host", "physical_network"]
        constraints = [
            models.UniqueConstraint(fields=["host", "physical_network"], name="host_physical_network_unique"),
        ]

    def __str__(self):
        return f"{self.physical_network}={self.interface}"
