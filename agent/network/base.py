"""The interface of a network driver, and the one for hosts without networking.

A driver makes the host match a NetworkState. ``converge`` is both the apply and
the audit: it returns every difference it found (DriftItem) and, when repairing,
fixes each as it goes. It is called with one state at a time (the manager holds a
lock).
"""

from abc import ABC, abstractmethod

from .. import protocol
from ..errors import AgentError
from ..network_protocol import ObservedNetworkState
from .drift import Drift


class NetworkDriver(ABC):
    @abstractmethod
    def converge(self, state, repair) -> tuple[Drift, object]:
        """(the Drift found, the HostPlan it worked from); raises AgentError when it cannot start at all."""

    @abstractmethod
    def supervise(self, plan) -> list:
        """Restart the daemons of ``plan`` that died (dnsmasq); the drift items of what was restarted."""

    @abstractmethod
    def observe(self, plan) -> ObservedNetworkState: ...

    @abstractmethod
    def nic_binding(self, plan, port_id) -> tuple[str, int]:
        """(bridge, MTU) a port's tap plugs into; AgentError port_not_ready when the plan lacks it."""

    @abstractmethod
    def close(self):
        """Stop what the driver runs inside the agent (metadata listeners)."""


class NoNetworkDriver(NetworkDriver):
    """``network_driver = none``: nothing is created, and no NIC can be plugged."""

    def converge(self, state, repair):
        if state.networks:
            raise AgentError(protocol.ERR_NETWORK, "this host's network driver is 'none'")
        return Drift(repair), None

    def supervise(self, plan):
        return []

    def observe(self, plan):
        return ObservedNetworkState()

    def nic_binding(self, plan, port_id):
        raise AgentError(protocol.ERR_PORT_NOT_READY, "this host's network driver is 'none'")

    def close(self):
        """Nothing runs."""
