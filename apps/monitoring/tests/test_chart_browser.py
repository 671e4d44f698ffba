"""The chart template and script, in Chromium: a tenant's instance drawn from its stored samples."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.monitoring.ingest import store_report
from apps.portal.tests.browser import screenshot

from .chart_page import drawn_chart
from .samples import instance_sample, report

pytestmark = pytest.mark.browser


def test_a_member_sees_their_instances_cpu_and_network_drawn_as_lines(
    browsing, settings, host, instance, member
):
    settings.ROOT_URLCONF = "apps.monitoring.tests.chart_page"
    now = timezone.now()
    for minute in range(5):
        sample = instance_sample(instance.pk, cpu_millicores=200 * minute, net_rx_bytes_per_s=1000 + minute)
        moment = now - timedelta(minutes=4 - minute)
        store_report(host, report(host.name, [sample], sampled_at=moment.timestamp()))
    page = browsing.signed_in_page(member)

    figure = drawn_chart(page, instance.pk, least=1000)

    assert figure.get_attribute("data-state") == "drawn"
    assert figure.get_attribute("data-source") == "database"
    assert figure.locator("svg path").count() >= 2  # a line per series
    screenshot(page, "metrics-chart")


def test_another_tenants_instance_draws_nothing(browsing, settings, instance, root):
    from apps.identity import policy
    from apps.identity.tests.factories import ProjectFactory, UserFactory, grant

    stranger_project = ProjectFactory()
    stranger = UserFactory(domain=stranger_project.domain)
    grant(stranger, policy.PROJECT_MEMBER, stranger_project)
    settings.ROOT_URLCONF = "apps.monitoring.tests.chart_page"

    figure = drawn_chart(browsing.signed_in_page(stranger), instance.pk)

    assert figure.get_attribute("data-state") == "failed"
