"""Adding a host and getting a new enrollment token from the admin portal, through Django's client.

The token is in the answer only: not cached by the browser, not stored in clear,
not in the audit log, not written to any log; the commands name no password of
the controllers; the pages are for cloud administrators only.
"""

import logging
import re

import pytest

from agent import signing
from apps.audit.models import AuditEvent
from apps.core import policy
from apps.identity.tests.factories import DomainFactory, UserFactory, grant
from apps.infrastructure.models import EnrollmentToken, Host
from apps.infrastructure.services.enrollment import enroll
from apps.infrastructure.services.hosts import token_hash
from apps.portal.tests.conftest import signed_in

from .agents import SignedAgent
from .factories import HostFactory, ZoneFactory

pytestmark = pytest.mark.django_db


def token_in(page):
    return re.search(r'id="enrollment-token">([0-9a-f]{64})<', page).group(1)


def test_adding_a_host_answers_once_with_its_token_and_commands(cloud_admin, caplog, settings):
    settings.CLOUDMGR_URL_FOR_HOSTS = "https://cloud-internal.example.org:8443"
    settings.CELERY_BROKER_URL = "redis://:s3cret-broker-pass@10.0.1.5:6379/0"
    zone = ZoneFactory(name="zone-a")
    caplog.set_level(logging.DEBUG)

    response = signed_in(cloud_admin).post(
        "/admin-portal/hosts/new/",
        {"name": "kvm-07", "zone": str(zone.pk), "tags": "ssd, gpu", "domain_type": "kvm"},
    )

    page = response.content.decode()
    token = token_in(page)
    assert response["Cache-Control"] == "no-store"
    host = Host.objects.get(name="kvm-07")
    assert (host.state, host.tags, host.domain_type) == (Host.ENROLLING, ["gpu", "ssd"], "kvm")
    assert EnrollmentToken.objects.get(host=host).token_hash == token_hash(token)
    assert f"--controller https://cloud-internal.example.org:8443 --token {token}" in page
    assert "CLOUDMGR_AGENT_BROKER_URL=&#x27;redis://:&lt;broker password&gt;@10.0.1.5:6379/0&#x27;" in page
    assert "s3cret-broker-pass" not in page
    assert f'data-reload-address="/admin-portal/hosts/{host.pk}/"' in page
    assert token not in caplog.text
    assert not [
        e for e in AuditEvent.objects.all() if token in f"{e.details} {e.error_message} {e.object_repr}"
    ]


def test_the_enrollment_status_follows_the_host_until_it_is_up(cloud_admin):
    admin_client = signed_in(cloud_admin)
    zone = ZoneFactory(name="zone-a")
    page = admin_client.post(
        "/admin-portal/hosts/new/", {"name": "kvm-07", "zone": str(zone.pk), "domain_type": "auto"}
    ).content
    host = Host.objects.get(name="kvm-07")
    status = f"/admin-portal/hosts/{host.pk}/enrollment/"

    waiting = admin_client.get(status).content.decode()
    assert 'data-host-state="enrolling"' in waiting
    assert f'hx-get="{status}"' in waiting

    agent = SignedAgent("kvm-07")
    enroll(token_in(page.decode()), signing.public_key_b64(agent.key), client_address="10.0.2.7")
    enrolled = admin_client.get(status).content.decode()
    assert "Waiting for its first heartbeat" in enrolled
    assert "from 10.0.2.7" in enrolled

    assert agent.heartbeat().status_code == 200
    up = admin_client.get(status).content.decode()
    assert 'data-host-state="up"' in up
    assert "kvm-07 is up" in up
    assert "hx-get" not in up


def test_a_new_token_replaces_the_unused_one_and_is_shown_once(cloud_admin):
    admin_client = signed_in(cloud_admin)
    host = HostFactory(name="kvm-02", state=Host.ENROLLING)
    first = token_in(admin_client.post(f"/admin-portal/hosts/{host.pk}/token/").content.decode())
    response = admin_client.post(f"/admin-portal/hosts/{host.pk}/token/")
    second = token_in(response.content.decode())

    assert response["Cache-Control"] == "no-store"
    assert first != second
    assert list(EnrollmentToken.objects.filter(host=host).values_list("token_hash", flat=True)) == [
        token_hash(second)
    ]
    assert "Earlier unused tokens of this host no longer work." in response.content.decode()


def test_a_taken_name_is_refused_at_the_field(cloud_admin):
    admin_client = signed_in(cloud_admin)
    zone = ZoneFactory(name="zone-a")
    HostFactory(name="kvm-07", zone=zone)
    for name, error in (("kvm-07", "already exists"), ("KVM 07!", "lower-case DNS name")):
        response = admin_client.post(
            "/admin-portal/hosts/new/", {"name": name, "zone": str(zone.pk), "domain_type": "auto"}
        )
        assert response.status_code in (400, 409)
        assert re.search(rf'id="id_name_error">[^<]*{error}', response.content.decode()), name
    assert Host.objects.count() == 1


def test_domain_admins_get_no_zones_and_cannot_add_hosts(root):
    domain = DomainFactory()
    admin = UserFactory(domain=domain)
    grant(admin, policy.DOMAIN_ADMIN, domain)
    zone = ZoneFactory(name="zone-a")
    client = signed_in(admin)

    for address in ("/admin-portal/zones/", f"/admin-portal/zones/{zone.pk}/", "/admin-portal/hosts/new/"):
        assert client.get(address).status_code == 404, address
    refused = client.post("/admin-portal/hosts/new/", {"name": "kvm-07", "zone": str(zone.pk)})
    assert refused.status_code == 404
    assert client.post("/admin-portal/zones/new/", {"name": "zone-b"}).status_code == 404
    assert not Host.objects.exists()
    assert "Zones" not in client.get("/admin-portal/").content.decode()
