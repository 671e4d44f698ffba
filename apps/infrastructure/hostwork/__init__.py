"""Host work: every job that a host's agent carries out, declared once per kind and run by one layer.

A kind of host work (kinds.HostWork) declares its job kind, its steps (each a
protocol task, the payload built for it and the host it goes to), its
deadline, what a host's success means and how a failed or overdue job is
settled. The layer does the rest, once for every kind:

- dispatch.py: the job is recorded in the caller's transaction and its first
  step is sent after commit; what the broker did not take is sent again by one
  periodic dispatcher;
- reports.py: a report is accepted only from the host the job's step went to,
  naming that step's task; a step's success advances the job to its next step
  (a compare-and-set on the job and its step) and sends that step after commit;
- the deadline sweeper (apps.jobs) fails an overdue job once and calls its
  kind's settlement in the same transaction.

docs/architecture.md ("Host work") walks through adding a kind.
"""
