"""An agent that starts (after a power cut, a crash, an upgrade) asks before it starts any guest.

The controller answers (agent.protocol.Recovery) whether this host was fenced
and, if not, what each of its instances should be doing:

- fenced: an operator confirmed this host was off, and its instances may be
  running elsewhere now. Nothing starts; every guest still running here is
  destroyed (powered off; definitions and disks stay for the operator), and the
  agent takes no task until the host is returned to service (agent.worker: the
  heartbeat's answer says when);
- otherwise each instance's guest is made to match: its domain is defined again
  from the spec when the hypervisor lost it but its disks are here; ``running``
  starts it, ``paused`` starts and pauses it, ``off`` leaves it off. Domains the
  answer does not list are never started: their instances are not this host's
  any more.

Until the controller answers, nothing starts: the agent keeps asking.
"""

import logging
import threading
import time

from . import protocol
from .controller_client import ControllerError
from .errors import AgentError

log = logging.getLogger(__name__)

RETRY_SECONDS = (1, 2, 5, 10, 30)


class Recovery:
    def __init__(self, client, driver, operations, host, stopping=None, sleep=None):
        self.client = client
        self.driver = driver
        self.operations = operations
        self.host = host
        self.stopping = stopping or threading.Event()
        self.sleep = sleep or self.stopping.wait

    def ask(self):
        """The controller's answer, asking again (starting nothing) until there is one (None: stopping)."""
        attempt = 0
        while not self.stopping.is_set():
            request = protocol.RecoveryRequest(protocol.PROTOCOL_VERSION, self.host, int(time.time()))
            try:
                answer = protocol.Recovery.from_dict(
                    self.client.post_message(protocol.RECOVERY_PATH, request)
                )
            except (ControllerError, protocol.ProtocolError) as exc:
                delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                log.warning("recovery: no answer from the controller (%s); nothing starts, asking again", exc)
                attempt += 1
                self.sleep(delay)
                continue
            log.info("recovery: fenced %s, %d instances here", answer.fenced, len(answer.instances))
            return answer
        return None

    def apply(self, answer):
        """Make the guests match the answer: all off when fenced, as desired otherwise."""
        if answer.fenced:
            log.warning("recovery: this host is fenced; its guests are destroyed and stay off")
            self.destroy_guests()
        else:
            self.restore(answer.instances)

    def destroy_guests(self):
        for status in self.driver.inventory().instances:
            if status.power_state != "shutoff":
                self._quietly(f"destroying {status.instance_id}", self.driver.stop, status.instance_id, 0)

    def restore(self, desired):
        for wanted in desired:
            instance_id = wanted.instance.instance_id
            if self._ensure_defined(wanted.instance) is None or wanted.power == "off":
                continue
            self._quietly(f"starting {instance_id}", self.driver.start, instance_id)
            if wanted.power == "paused":
                self._quietly(f"pausing {instance_id}", self.driver.pause, instance_id)

    def _ensure_defined(self, spec):
        """The domain's status; defined again from the spec when only the hypervisor forgot it."""
        try:
            return self.driver.status(spec.instance_id)
        except AgentError as error:
            if error.code != protocol.ERR_INSTANCE_NOT_FOUND:
                log.error("recovery: %s: %s", spec.instance_id, error.message)
                return None
        files = self.operations.files(spec.instance_id)
        if not files.root_disk.exists():
            log.error("recovery: %s has neither a domain nor a root disk here; left alone", spec.instance_id)
            return None
        return self._quietly(f"defining {spec.instance_id}", self.driver.define, spec, files)

    @staticmethod
    def _quietly(what, function, *args):
        """One guest's failure must not keep the others from recovering."""
        try:
            return function(*args)
        except AgentError as error:
            log.error("recovery: %s failed: %s (%s)", what, error.message, error.code)
            return None
