"""The actor of an operation: a principal, where the request came from, and through what."""

from dataclasses import dataclass

from .policy import Principal, SystemPrincipal


@dataclass
class Actor:
    principal: Principal
    client_address: str = ""
    interface: str = "api"

    @property
    def user(self):
        return self.principal.user

    @property
    def name(self):
        return self.user.username if self.user is not None else f"system:{self.interface}"

    def can(self, action, target):
        return self.principal.can(action, target)

    @classmethod
    def system(cls, interface="cli"):
        return cls(SystemPrincipal(), "", interface)

    @classmethod
    def from_request(cls, request, interface="api"):
        principal = request.auth if isinstance(request.auth, Principal) else Principal(request.user)
        return cls(principal, getattr(request, "client_address", ""), interface)
