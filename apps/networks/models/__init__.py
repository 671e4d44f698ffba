"""The networks app's models, one module per concept."""

from .hosts import HostNetworkConfig, HostPhysicalNetwork
from .networks import Network, NetworkAccess, Subnet, SubnetAddress, VlanPool
from .ports import Port
from .routing import FloatingIP, Router
from .security import DEFAULT_GROUP_NAME, SecurityGroup, SecurityGroupRule

__all__ = [
    "DEFAULT_GROUP_NAME",
    "FloatingIP",
    "HostNetworkConfig",
    "HostPhysicalNetwork",
    "Network",
    "NetworkAccess",
    "Port",
    "Router",
    "SecurityGroup",
    "SecurityGroupRule",
    "Subnet",
    "SubnetAddress",
    "VlanPool",
]
