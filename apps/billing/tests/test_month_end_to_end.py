"""A project through a month on the real path, invoiced to the cent.

Everything happens as in production, under a controlled clock
(controlled_clock.py): the API, the transaction that records each state change
with its usage event, Celery over Redis, a real agent process on libvirt's
test:///default, its signed reports, the host's upload of a snapshot, the
periodic purge of deleted images, a floating IP allocated from a public pool
and released days later, a project network created and deleted, then
`rollupusage` and `closeperiod` after the month. Each step runs at its moment
of the month (MONTH); the invoice must show EXPECTED_LINES, worked out by
hand, to the cent.

The network lives in a zone of its own whose network node has no agent: a
tenant's network is a VLAN network with a DHCP server on a network node,
which the one agent on the test driver is not; that node has no memory or
disk free, so the scheduler never places the month's instances on it. The
network's create and delete are the API's; the DHCP server's host work is
queued and never done, which billing does not read.
"""

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from agent.tests.builders import qcow2_bytes
from apps.compute.models import Instance
from apps.compute.tests.agent_processes import AgentProcess
from apps.compute.tests.factories import OfferingFactory
from apps.conftest import login
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.images.models import Image
from apps.images.periodic import purge_deleted
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory, ZoneFactory
from apps.jobs.models import Job
from apps.networks.services import host_networks
from apps.networks.tests.factories import PHYSNET, SYSTEM, vlan_pool

from .controlled_clock import ControlledClock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

WAIT_SECONDS = 90
HOUR = 3600


def next_january():
    """January of next year: ahead of the real clock, and 31 days long."""
    return datetime(timezone.now().year + 1, 1, 1, tzinfo=UTC)


@dataclass
class Month:
    """What the steps share: the clients (signed in as the month goes on) and the objects by name."""

    clock: ControlledClock
    start: datetime
    member: object
    admin: object
    project: object
    files: object
    offerings: dict
    zone: object
    network_zone: object
    ids: dict = field(default_factory=dict)

    def at(self, day_and_time):
        """'14 06:00' in this month."""
        day, time = day_and_time.split()
        hour, minute = time.split(":")
        return self.start.replace(day=int(day), hour=int(hour), minute=int(minute))

    def api(self):
        return login(self.member, project_id=self.project.pk)

    def admin_api(self):
        return login(self.admin)


def settled(instance_id):
    return Instance.objects.filter(pk=instance_id, task_state__isnull=True).first()


def wait_for_job(response, what):
    assert response.status_code == 202, response.content
    job_id = response.data["job_id"]
    wait_until(lambda: Job.objects.get(pk=job_id).finished, WAIT_SECONDS, what)
    job = Job.objects.get(pk=job_id)
    assert job.state == "succeeded", (what, job.error_code, job.error_message)
    return response.data


# The steps of the month. Each is a function of the Month, run with the clock at its moment.


def price_list(month):
    """The cloud's card, per hour: an instance 0.01, m1.small 0.02, a GiB of image 0.0001, snapshot 0.0002,
    a floating IP 0.005, a network 0.001."""
    admin = month.admin_api()
    card = admin.post("/api/v1/rate-cards/", {"name": "list prices", "currency": "EUR"}, format="json")
    assert card.status_code == 201, card.content
    month.ids["card"] = card.data["id"]
    for resource_type, price, offering in [
        ("instance", "0.0100", None),
        ("instance", "0.0200", "m1.small"),
        ("image", "0.0001", None),
        ("snapshot", "0.0002", None),
        ("floating_ip", "0.0050", None),
        ("network", "0.0010", None),
    ]:
        add_price(month, admin, resource_type, price, offering, month.start)


def add_price(month, admin, resource_type, price, offering, effective_from):
    body = {"resource_type": resource_type, "price": price, "effective_from": effective_from.isoformat()}
    if offering is not None:
        body["offering_id"] = str(month.offerings[offering].pk)
    response = admin.post(f"/api/v1/rate-cards/{month.ids['card']}/rates/", body, format="json")
    assert response.status_code == 201, response.content


def upload_image(name):
    def step(month):
        api = month.api()
        image = api.post("/api/v1/images/", {"name": name, "disk_format": "qcow2"}, format="json")
        assert image.status_code == 201, image.content
        body = qcow2_bytes(month.files)
        stored = api.put(
            f"/api/v1/images/{image.data['id']}/file", body, content_type="application/octet-stream"
        )
        assert stored.status_code == 200, stored.content
        month.ids[name] = image.data["id"]

    return step


def launch(name, offering, image):
    def step(month):
        body = {"name": name, "offering_id": str(month.offerings[offering].pk), "image_id": month.ids[image]}
        month.ids[name] = wait_for_job(month.api().post("/api/v1/instances/", body, format="json"), name)[
            "id"
        ]
        assert settled(month.ids[name]).vm_state == "active"

    return step


def instance_action(name, action):
    def step(month):
        api, instance_id = month.api(), month.ids[name]
        if action == "delete":
            response = api.delete(f"/api/v1/instances/{instance_id}/")
        else:
            response = api.post(f"/api/v1/instances/{instance_id}/{action}/", {}, format="json")
        wait_for_job(response, f"{action} {name}")

    return step


def snapshot(name, into):
    def step(month):
        response = month.api().post(
            f"/api/v1/instances/{month.ids[name]}/snapshot/", {"name": into}, format="json"
        )
        month.ids[into] = wait_for_job(response, f"the snapshot of {name}")["image_id"]
        assert Image.objects.get(pk=month.ids[into]).status == Image.ACTIVE

    return step


def delete_image(name):
    def step(month):
        response = month.api().delete(f"/api/v1/images/{month.ids[name]}/")
        assert response.data["status"] == "pending_delete", response.content

    return step


def periodic_purge(month):
    """What the controller's periodic work `images.purge_deleted` does at this moment."""
    assert purge_deleted() == 1


def public_pool(month):
    """The cloud admin's pool of public addresses in the agent's zone (the cloud's own: billed to no one)."""
    body = {
        "name": "public",
        "zone_id": str(month.zone.pk),
        "physical_network": "public",
        "cidr": "203.0.113.0/24",
        "gateway_ip": "203.0.113.1",
    }
    response = month.admin_api().post("/api/v1/public-pools/", body, format="json")
    assert response.status_code == 201, response.content
    month.ids["public"] = response.data["id"]


def make(collection, name, body_of):
    """The member POSTs `body_of(month)` to the collection; the made object's id is kept as `name`."""

    def step(month):
        response = month.api().post(f"/api/v1/{collection}/", body_of(month), format="json")
        assert response.status_code == 201, response.content
        month.ids[name] = response.data["id"]

    return step


def remove(collection, name):
    def step(month):
        assert month.api().delete(f"/api/v1/{collection}/{month.ids[name]}/").status_code == 204

    return step


def price_change(offering, price, effective):
    def step(month):
        add_price(month, month.admin_api(), "instance", price, offering, month.at(effective))

    return step


MONTH = [
    ("01 00:00", price_list),
    ("01 00:00", upload_image("base")),
    ("01 00:00", public_pool),
    ("02 08:00", launch("web", "m1.small", "base")),
    ("03 00:00", launch("db", "m1.tiny", "base")),
    (
        "04 00:00",
        make("networks", "private", lambda m: {"name": "private", "zone_id": str(m.network_zone.pk)}),
    ),
    # The pool's first free address, its gateway .1 taken: 203.0.113.2
    ("05 10:00", make("floating-ips", "address", lambda m: {"network_id": m.ids["public"]})),
    ("08 22:30", remove("floating-ips", "address")),
    ("10 08:00", instance_action("web", "stop")),
    ("12 12:00", instance_action("web", "start")),
    ("14 06:00", snapshot("web", into="web-snap")),
    # Announced the day before: m1.small costs 0.03 an hour from the 16th.
    ("15 09:00", price_change("m1.small", "0.0300", effective="16 00:00")),
    ("20 12:00", instance_action("web", "delete")),
    ("24 12:00", remove("networks", "private")),
    # Pending deletion for two days (the retention below), then purged: stored until then.
    ("25 00:00", delete_image("web-snap")),
    ("27 00:00", periodic_purge),
    ("28 00:00", instance_action("db", "stop")),
    ("30 00:00", instance_action("db", "delete")),
]

# (resource type, name, offering, price per unit-hour, unit-hours, amount)
EXPECTED_LINES = [
    # Running from the 2nd 08:00 to the 10th 08:00 (192 h), from the 12th 12:00 to the price change (84 h)
    ("instance", "web", "m1.small", "0.02", 276, "5.52"),
    # ... and at the new price to its delete on the 20th 12:00
    ("instance", "web", "m1.small", "0.03", 108, "3.24"),
    # No price of its own: the card's instance price, from the 3rd to its stop on the 28th
    ("instance", "db", "m1.tiny", "0.01", 600, "6.00"),
    # One GiB (its few bytes rounded up) all month: 0.0744
    ("image", "base", "", "0.0001", 744, "0.07"),
    # One GiB from the 14th 06:00 to its purge on the 27th: 306 h, 0.0612
    ("snapshot", "web-snap", "", "0.0002", 306, "0.06"),
    # Allocated on the 5th 10:00, released on the 8th 22:30: 3 days and 12.5 h, 84.5 h, 0.4225
    ("floating_ip", "203.0.113.2", "", "0.005", 84.5, "0.42"),
    # From the 4th 00:00 to the 24th 12:00: 20 days and 12 h, 492 h, 0.492
    ("network", "private", "", "0.001", 492, "0.49"),
]
# 5.52 + 3.24 + 6.00 + 0.07 + 0.06 = 14.89 for instances and storage; + 0.42 + 0.49 = 15.80
EXPECTED_TOTAL = Decimal("15.80")


@pytest.fixture
def clock(monkeypatch):
    controlled = ControlledClock(monkeypatch)
    yield controlled
    controlled.stop()


@pytest.fixture
def month(
    live_server,
    tmp_path,
    signing_key,
    clock,
    member,
    cloud_admin,
    project,
    small,
    settings,
):
    settings.CLOUDMGR_IMAGE_PENDING_DELETE_SECONDS = 2 * 24 * HOUR
    zone = ZoneFactory(name="zone-a")
    agent = AgentProcess(
        Actor.system("test"),
        f"month-{uuid.uuid4().hex[:8]}",
        zone,
        live_server.url,
        tmp_path,
        capacity_ram_mb=4096,
        # One heartbeat, at the start: the agent's listings are on the real clock, not the month's.
        heartbeat_seconds=HOUR,
    )
    try:
        wait_until(lambda: Host.objects.filter(name=agent.name, state=Host.UP).exists(), WAIT_SECONDS, "up")
        files = tmp_path / "files"
        files.mkdir()
        network_zone = ZoneFactory(name="zone-of-the-network")
        full = HostFactory(zone=network_zone, ram_mb=512, reserved_host_memory_mb=512, disk_gb=0)
        host_networks.set_host_network(SYSTEM, full, network_node=True, physical_networks={PHYSNET: "eth1"})
        vlan_pool(network_zone)
        tiny = OfferingFactory(name="m1.tiny", vcpus=1, ram_mb=512, root_disk_gb=1)
        yield Month(
            clock,
            next_january(),
            member,
            cloud_admin,
            project,
            files,
            {"m1.small": small, "m1.tiny": tiny},
            zone,
            network_zone,
        )
    finally:
        clock.stop()
        agent.stop()


def invoiced_lines(invoice):
    return sorted(
        (
            line["resource_type"],
            line["resource_name"],
            line["offering_name"],
            Decimal(line["unit_price"]).normalize(),
            line["unit_seconds"] / HOUR,
            Decimal(line["amount"]),
        )
        for line in invoice["lines"]
    )


def test_a_month_of_instances_images_an_address_a_network_and_a_price_change_is_invoiced_to_the_cent(
    month,
):
    for moment, step in MONTH:
        month.clock.move_to(month.at(moment))
        step(month)

    month.clock.move_to(month.start.replace(month=2, hour=2))
    call_command("rollupusage")
    label = month.start.strftime("%Y-%m")
    call_command("closeperiod", label)

    api = month.api()
    listed = api.get("/api/v1/invoices/", {"period": label}).data["results"]
    assert [(i["state"], i["currency"], Decimal(i["total"])) for i in listed] == [
        ("finalized", "EUR", EXPECTED_TOTAL)
    ]
    invoice = api.get(f"/api/v1/invoices/{listed[0]['id']}/").data
    assert invoiced_lines(invoice) == sorted(
        (kind, name, offering, Decimal(price).normalize(), hours, Decimal(amount))
        for kind, name, offering, price, hours, amount in EXPECTED_LINES
    )
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == EXPECTED_TOTAL
    rows = list(
        csv.DictReader(io.StringIO(api.get(f"/api/v1/invoices/{listed[0]['id']}/csv/").content.decode()))
    )
    assert [(row["description"], Decimal(row["amount"])) for row in rows[-1:]] == [("TOTAL", EXPECTED_TOTAL)]
