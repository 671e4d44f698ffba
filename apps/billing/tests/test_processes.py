"""The billing cycle in real processes: two controllers and two rollupusage commands at once, and a
rollup killed (SIGKILL) in the middle. Every hour is counted once, every budget notice sent once.

The processes run on the real clock, so the events are recorded in the past
hours, each at its own time, with the recorder as the integration calls it.
"""

import os
import random
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.billing.models import BudgetNotice, Invoice
from apps.billing.periods import period_of, whole_hour
from apps.billing.rollup import rolled_until
from apps.billing.services.budgets import create_budget
from apps.core.tests.controllers import TEST_ENVIRONMENT, database_url, wait_until
from apps.metering.models import PendingEvent

from . import usage as u
from .invoicing import priced
from .prices import SYSTEM
from .reference import expected_seconds, recorded_seconds

pytestmark = pytest.mark.processes


def one_hour_chunks(**extra):
    return {"CLOUDMGR_BILLING_ROLLUP_CHUNK_HOURS": "1", **extra}


def rollupusage(environment):
    """A `manage.py rollupusage` process on the test database."""
    env = {
        **os.environ,
        **TEST_ENVIRONMENT,
        **environment,
        "CLOUDMGR_DATABASE_URL": database_url(connection.settings_dict),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "rollupusage"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def past_usage(project, offering, *, hours, instances=8, seed=3):
    """Instances started and stopped at random seconds over the last `hours` hours; some still run."""
    rng = random.Random(seed)
    start = whole_hour(timezone.now()) - timedelta(hours=hours)
    for _ in range(instances):
        vm = uuid.uuid4()
        moments = sorted(start + timedelta(seconds=rng.uniform(0, hours * 3600)) for _ in range(7))
        for index, moment in enumerate(moments):
            if index % 2 == 0:
                u.instance_running(moment, vm, project, offering)
            else:
                u.instance_stopped(moment, vm, project)


def everything_rolled_up():
    return rolled_until() == whole_hour(timezone.now()) and not PendingEvent.objects.exists()


def emails_in(directory):
    return sum(path.read_text().count("\nSubject: ") for path in Path(directory).glob("*"))


def test_two_controllers_and_two_commands_at_once_count_each_hour_once_and_send_each_notice_once(
    start_controller, project, small, tmp_path
):
    priced()
    create_budget(SYSTEM, project=project, amount="0.01", currency="EUR", notify_emails=["ops@example.test"])
    past_usage(project, small, hours=30)
    mail = tmp_path / "mail"
    environment = one_hour_chunks(
        CLOUDMGR_PERIOD_BILLING_ROLLUP="1",
        CLOUDMGR_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        CLOUDMGR_EMAIL_FILE_PATH=str(mail),
    )

    first = start_controller("first", environment=environment, ready=False)
    second = start_controller("second", environment=environment, ready=False)
    commands = [rollupusage(environment) for _ in range(2)]
    for command in commands:
        output, _ = command.communicate(timeout=120)
        assert command.returncode == 0, output.decode()
    first.wait_ready()
    second.wait_ready()
    wait_until(everything_rolled_up, timeout=60, what="the usage to be rolled up to this hour")
    wait_until(
        lambda: BudgetNotice.objects.exists() or not current_spend(project), timeout=30, what="notices"
    )
    assert first.stop() == 0
    assert second.stop() == 0

    assert recorded_seconds() == expected_seconds(rolled_until())
    # Both thresholds of a budget of a cent, unless this period has no whole hour yet.
    notices = 2 if current_spend(project) > 0 else 0
    assert (BudgetNotice.objects.count(), emails_in(mail)) == (notices, notices)


def current_spend(project):
    period = period_of(timezone.now())
    return sum(
        Invoice.objects.filter(project_id=project.pk, period_start=period.start).values_list(
            "total", flat=True
        )
    )


def test_a_rollup_killed_in_the_middle_loses_and_doubles_nothing(transactional_db, project, small):
    past_usage(project, small, hours=24 * 12, instances=12)
    target = whole_hour(timezone.now())
    killed = rollupusage(one_hour_chunks())
    wait_until(lambda: rolled_until() is not None, timeout=60, what="the first chunk to commit")
    killed.kill()
    killed.wait()
    assert rolled_until() < target, "the rollup finished before it could be killed"

    finished = rollupusage(one_hour_chunks())
    output, _ = finished.communicate(timeout=300)
    assert finished.returncode == 0, output.decode()
    assert recorded_seconds() == expected_seconds(rolled_until())
