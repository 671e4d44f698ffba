"""The controlled clock of tests that run real agents through a month: the controller's, while the wire
keeps the real one.

The controller (this process: the test and its live server) stands still at
each moment the test moves it to (time-machine, tick=False), so every state
change, and the usage event written with it, happens exactly then.

The agents are real processes on the real clock. They judge a task's expiry
by it, and the controller judges their requests' timestamps by it (the wire's
freshness window, agent/signing.py). So in this process the signing module
alone reads the real clock, as the controller's would agree with its agents'
in production. That is the one stand-in: a clock shared with other processes
cannot be had here (Debian 12's libfaketime, preloaded into the agents, turns
Python 3.11's sleeps into EINVAL and its timed waits into hangs).
"""

import time

import time_machine

from agent import signing


class _RealClock:
    """What agent/signing.py asks of the `time` module, answered from the real clock."""

    @staticmethod
    def time():
        if time_machine.escape_hatch.is_travelling():
            return time_machine.escape_hatch.time.time()
        return time.time()


class ControlledClock:
    def __init__(self, monkeypatch):
        monkeypatch.setattr(signing, "time", _RealClock)
        self._traveller = None

    def move_to(self, moment):
        """The controller's clock stands at `moment` from now on (it only moves forward in these tests)."""
        self.stop()
        self._traveller = time_machine.travel(moment, tick=False)
        self._traveller.start()

    def stop(self):
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None
