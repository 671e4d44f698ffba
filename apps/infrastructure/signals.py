"""How apps above infrastructure learn what happens to hosts (compute acts on the instances on them).

Each signal is sent inside the transaction of the change, with `send`: a
receiver's work commits or rolls back with it. Receivers connect in their
AppConfig.ready().

- hosts_went_down(host_ids): hosts stopped answering (their guests may still run);
- host_fenced(host, actor): an operator confirmed the host is off;
- maintenance_changed(host, on, actor): the host's maintenance switch was set or cleared.

`host_occupants` (register_occupant) tells infrastructure what still lives on a
host that an admin wants to remove.
"""

from django.dispatch import Signal

hosts_went_down = Signal()
host_fenced = Signal()
maintenance_changed = Signal()

_occupants = []


def register_occupant(describe):
    """`describe(host)` -> a phrase such as "3 instances", or "" when nothing of its app is on the host."""
    _occupants.append(describe)


def occupants_of(host):
    return [phrase for phrase in (describe(host) for describe in _occupants) if phrase]
