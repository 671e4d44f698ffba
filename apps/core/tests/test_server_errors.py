"""The five requests that answered 500 (issue 11), each now a 4xx with a stable code.

They stand for their kind: a time with a UTC offset PostgreSQL cannot hold, a
number past its column, a blank value a service did not expect, a number past a
form field's column, and an agent report read before its signature is checked.
The fuzzers (test_schema_fuzzing.py, test_agent_fuzzing.py, test_portal_fuzzing.py)
look for the rest of each kind.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from agent import protocol, signing
from apps.compute.tests.factories import OfferingFactory
from apps.images.tests.factories import active_image
from apps.portal.tests.conftest import signed_in
from apps.quotas.models import QuotaUsage

BIGINT_PAST_END = str(2**63)


@pytest.mark.parametrize("bound", ["since", "until"])
def test_an_audit_filter_with_an_offset_postgresql_cannot_hold_is_a_400_with_its_own_code(admin_api, bound):
    response = admin_api.get(f"/api/v1/audit-events/?{bound}=1232-01-15T03:40:43.871624%2B17:54")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "utc_offset_out_of_range"
    assert bound in response.json()["error"]["details"]


def test_an_audit_filter_with_the_largest_offset_postgresql_holds_is_answered(admin_api):
    response = admin_api.get("/api/v1/audit-events/?until=1232-01-15T03:40:43%2B15:59")

    assert response.status_code == 200


def test_an_image_minimum_disk_past_its_column_is_a_400(api):
    response = api.post(
        "/api/v1/images/",
        {"name": "big", "disk_format": "raw", "min_disk_gb": 140737488355329},
        format="json",
    )

    assert response.status_code == 400
    assert "min_disk_gb" in response.json()["error"]["details"]


def test_an_instance_with_blank_user_data_is_launched_like_one_without(api, project):
    offering = OfferingFactory(public=True)
    image = active_image(project)
    body = {"name": "vm", "offering_id": str(offering.pk), "image_id": str(image.pk), "user_data": ""}

    response = api.post("/api/v1/instances/", body, format="json")

    # No host exists: the launch is refused for capacity, after the user data was taken as no bytes.
    assert response.status_code < 500, response.content
    assert response.json()["error"]["code"] != "user_data_too_large"


@pytest.mark.parametrize(
    "page", ["portal:project-limits", "portal:domain-limits", "portal:admin-quota-defaults"]
)
def test_a_quota_form_limit_past_a_bigint_is_a_form_error(cloud_admin, project, page):
    args = {"portal:project-limits": [project.pk], "portal:domain-limits": [project.domain.pk]}.get(page, [])

    response = signed_in(cloud_admin).post(reverse(page, args=args), {"instances": BIGINT_PAST_END})

    assert response.status_code == 400
    assert QuotaUsage.objects.filter(limit=2**63).count() == 0


def test_an_unsigned_task_report_naming_no_uuid_is_refused_before_any_lookup(db):
    report = {
        "protocol_version": 1,
        "host": "some-host",
        "task_id": "x",
        "task": protocol.INVENTORY,
        "state": "running",
        "sent_at": 0,
    }
    body = json.dumps(report).encode()
    headers = signing.sign_request(
        signing.generate_private_key(),
        host="some-host",
        method="POST",
        path=protocol.TASK_REPORT_PATH,
        body=body,
    )

    response = Client().post(
        protocol.TASK_REPORT_PATH,
        body,
        content_type="application/json",
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_the_api_root_lists_every_resource_collection_without_authentication(client, db):
    response = client.get("/api/v1/")

    assert response.status_code == 200
    resources = response.json()["resources"]
    assert resources["instances"].endswith("/api/v1/instances/")
    assert {"images", "projects", "hosts", "auth/tokens"} <= set(resources)
    assert response.json()["schema"].endswith("/api/v1/schema/")
