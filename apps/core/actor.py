"""The actor of an operation: a principal, where the request came from, and through what."""

import getpass
from dataclasses import dataclass

from .policy import Principal, SystemPrincipal


@dataclass
class Actor:
    principal: Principal
    client_address: str = ""
    interface: str = "api"
    # At the command line the system acts, on behalf of this operating-system account.
    os_user: str = ""

    @property
    def user(self):
        return self.principal.user

    @property
    def name(self):
        if self.user is not None:
            return self.user.username
        return f"system:{self.interface}" if isinstance(self.principal, SystemPrincipal) else "anonymous"

    def can(self, action, target):
        return self.principal.can(action, target)

    @classmethod
    def system(cls, interface="cli"):
        return cls(SystemPrincipal(), "", interface, _os_user() if interface == "cli" else "")

    @classmethod
    def from_request(cls, request, interface="api"):
        principal = request.auth if isinstance(request.auth, Principal) else Principal(request.user)
        return cls(principal, getattr(request, "client_address", ""), interface)


def _os_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
