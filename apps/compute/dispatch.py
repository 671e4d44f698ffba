"""Sending host jobs to their agents, after the transaction that recorded them commits."""

import logging
from functools import partial

from django.db import transaction

log = logging.getLogger(__name__)


def send_on_commit(job):
    """Send the job's task once the surrounding transaction commits; nothing is sent on a rollback."""
    transaction.on_commit(partial(send, job.pk), robust=True)


def send(job_id):
    """Sign the job's task and send it to the host's queue (filled in by the agent wiring)."""
    log.info("job %s recorded; the agent wire is not installed, so it stays undispatched", job_id)
