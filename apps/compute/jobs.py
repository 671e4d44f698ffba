"""Job handlers of instance actions: agents run them; one that misses its deadline ends its action."""

from apps.jobs.registry import job_handler

from .services.lifecycle import action_failed, job_kind
from .services.snapshots import SNAPSHOT, snapshot_ended
from .states import ACTIONS


def _run_on_agent(job, progress):
    raise RuntimeError(f"job {job.pk} ({job.kind}) runs on its host's agent, not in the controller")


def settle(job):
    """Called once, in the transaction that fails the job: the instance leaves the action as failed."""
    action_failed(job.payload["instance_id"], job.payload["action"], job.error_code, job.error_message)
    if job.payload["action"] == SNAPSHOT:
        snapshot_ended(job, succeeded=False)


for _action in ACTIONS:
    job_handler(job_kind(_action), settle=settle)(_run_on_agent)
