"""How apps above identity learn that domains and projects come, move and go (quotas keep their rows).

Each signal is sent inside the transaction of the change, with `send` (not
`send_robust`): a receiver may refuse the change with a ServiceError, which goes
on to the caller and rolls it back. Receivers connect in their AppConfig.ready().

- domain_created(domain), project_created(project): the new row is saved;
- domain_deleting(domain), project_deleting(project): the row is locked and about to go;
- project_moving(project, new_domain, reader): the project's row is locked, its domain about to change;
  `reader` is the principal asking (a refusal tells it only what it may read).
"""

from django.dispatch import Signal

domain_created = Signal()
project_created = Signal()
domain_deleting = Signal()
project_deleting = Signal()
project_moving = Signal()
