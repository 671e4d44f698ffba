"""Collecting differences between the host and its desired network state, repairing as they are found.

One code path serves the audit and the apply: every check that finds something
wrong records a DriftItem and, when repairing, runs its fix at once. A fix that
fails is recorded (``repair failed: ...``) and the run goes on, so one broken
device does not hide the others; ``failures`` tells the caller.
"""

import logging

from .. import protocol
from ..errors import AgentError

log = logging.getLogger(__name__)


class Drift:
    def __init__(self, repair):
        self.repair = repair
        self.items = []
        self.failures = []

    def found(self, kind, name, problem, detail="", fix=None):
        """Record one difference; run ``fix`` when repairing (None: nothing the agent may do)."""
        repaired = False
        if self.repair and fix is not None:
            try:
                fix()
                repaired = True
            except (AgentError, OSError) as exc:
                message = getattr(exc, "message", None) or str(exc)
                detail = f"{detail}; repair failed: {message}" if detail else f"repair failed: {message}"
                self.failures.append(f"{kind} {name}: {message}")
                log.warning("network repair of %s %s failed: %s", kind, name, message)
        item = protocol.DriftItem(
            kind=kind, name=name, problem=problem, detail=detail[:500], repaired=repaired
        )
        self.items.append(item)
        return repaired

    def refused(self, kind, name, detail):
        self.found(kind, name, "refused", detail)
