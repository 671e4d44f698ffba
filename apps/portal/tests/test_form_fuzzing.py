"""Hypothesis against every portal form: no 5xx for any input, posted as a signed-in user with CSRF.

The forms are found by crawling the portal (form_crawler.py) as a cloud admin
in a fuzzing world; each is posted with a valid CSRF token, with what the page
offered and up to two fields replaced by numbers of any size or any text, so
that most posts are valid but for those fields. The test prints
how many posts reached validation (were not refused for CSRF).
"""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.tests.fuzzing.world import CLOUD_ADMIN, build_world

from .form_crawler import forms_on, page_urls

EXAMPLES_PER_FORM = 25
ANY_VALUE = (
    st.text(max_size=60)
    | st.integers(-(2**70), 2**70).map(str)
    | st.sampled_from(["", "-1", "0", "9223372036854775808", "1e400", "NaN", "2026-02-30", "9999-12-31"])
)


@st.composite
def form_data(draw, form):
    """What the page offered (or a plausible word for an empty field), with up to two fields replaced."""
    data = {
        name: draw(
            st.sampled_from([value for value in offered if value] or ["fuzz"]) | st.sampled_from(offered)
        )
        for name, offered in form.fields.items()
    }
    for name in draw(st.lists(st.sampled_from(sorted(form.fields)), max_size=2, unique=True)) if data else ():
        data[name] = draw(ANY_VALUE)
    return data


def csrf_refused(response):
    return response.status_code == 403 and b"CSRF" in response.content


def fuzz_form(client, form, statuses):
    @settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=form_data(form))
    def post(data):
        # The cookie the crawled pages set, as a browser keeps it.
        token = client.cookies["csrftoken"].value
        response = client.post(form.action, {**data, "csrfmiddlewaretoken": token})
        statuses["csrf" if csrf_refused(response) else response.status_code] += 1
        assert response.status_code < 500, (form.action, data, response.content[:2000])

    post()


@pytest.fixture
def signed_in_admin(root):
    world = build_world(CLOUD_ADMIN)
    admin = get_user_model().objects.get(username=world.username)
    admin.world = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    return client, admin


def test_no_portal_form_answers_a_server_error_for_any_input(signed_in_admin, capsys):
    client, admin = signed_in_admin
    forms = [
        form
        for form in forms_on(client, page_urls(admin.world.ids))
        if form.method == "post" and form.action != reverse("portal:logout")
    ]
    statuses = Counter()

    for form in forms:
        client.force_login(admin)  # a form may have ended the session (a password change, say)
        fuzz_form(client, form, statuses)

    posted = sum(statuses.values())
    reached = posted - statuses["csrf"]
    with capsys.disabled():
        print(f"\nportal forms: {len(forms)} forms, {posted} posts, {reached} reached validation", end=" ")
        print(f"(answers: {dict(statuses)})")
    assert len(forms) >= 20
    assert reached == posted
    assert statuses[302] < posted  # not all sent back to the sign-in page
