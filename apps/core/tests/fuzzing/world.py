"""The objects a fuzzing run starts from, made fresh for each role, and the ids Schemathesis may use.

A fuzzer guesses ids at random and would meet nothing but 404s; given the ids of
real objects (as Schemathesis dictionaries, drawn some of the time) its requests
reach the code behind the lookup. Each role gets its own world, since what one
role's run deletes, stops or revokes is gone for the next.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.billing.services.budgets import create_budget
from apps.billing.services.rate_cards import add_rate, create_rate_card
from apps.billing.tests.invoicing import finalized_invoice
from apps.compute import states
from apps.compute.services.keypairs import create_keypair
from apps.compute.tests.factories import (
    AffinityGroupFactory,
    InstanceFactory,
    OfferingFactory,
    movable_host,
    resized_instance,
)
from apps.core import policy
from apps.core.actor import Actor
from apps.core.policy import Principal
from apps.core.tree import ROOT_DOMAIN_ID
from apps.identity.models import Domain, RoleAssignment
from apps.identity.services.apikeys import create_api_key
from apps.identity.services.roles import add_rule, create_role
from apps.identity.tests.factories import PASSWORD, DomainFactory, ProjectFactory, UserFactory, grant
from apps.images.tests.factories import (
    SYSTEM,
    active_image,
    deactivated_image,
    pending_delete_image,
    queued_image,
    shared_image,
)
from apps.infrastructure.models import Host, HostAuditFinding
from apps.infrastructure.tests.factories import HostFactory, ZoneFactory, agent_public_key
from apps.jobs.models import Job
from apps.jobs.services import create_job
from apps.networks.tests.fuzzing_world import build_network_world
from apps.quotas.models import UNLIMITED, QuotaUsage
from apps.quotas.services import set_limit

CLOUD_ADMIN, DOMAIN_ADMIN, PROJECT_MEMBER = "cloud_admin", "domain_admin", "project_member"
ROLES = (PROJECT_MEMBER, DOMAIN_ADMIN, CLOUD_ADMIN)
# Each instance action gets instances of its own, in a state it starts from, so that one action's
# cases do not use up the instances another needs (the hosts never answer: a started action stays).
ACTION_STATES = {
    "start": (states.STOPPED, "shutoff"),
    "stop": (states.ACTIVE, "running"),
    "reboot": (states.ACTIVE, "running"),
    "pause": (states.ACTIVE, "running"),
    "unpause": (states.PAUSED, "paused"),
    "suspend": (states.ACTIVE, "running"),
    "resume": (states.SUSPENDED, "shutoff"),
    "rebuild": (states.STOPPED, "shutoff"),
    "snapshot": (states.ACTIVE, "running"),
    "console-log": (states.ACTIVE, "running"),
    "delete": (states.ERROR, "nostate"),
}
PER_ACTION = 3
# Moves have hosts of their own, in a zone of their own, that no host operation of the run drains,
# disables or deletes: instances resized, migrated or evacuated go from one to the other.
MOVE_STATES = {
    "resize": (states.ACTIVE, "running"),
    "migrate": (states.STOPPED, "shutoff"),
    "live-migrate": (states.ACTIVE, "running"),
}
# Rate cards charge in it, so budgets may be set in it.
CURRENCY = "EUR"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class World:
    role: str
    username: str
    password: str
    token_scope: dict
    # Dictionary name -> ids; config.py binds them to parameters.
    ids: dict = field(default_factory=dict)
    host_names: list = field(default_factory=list)


def build_world(role):
    domain = DomainFactory()
    project = ProjectFactory(domain=domain)
    user = UserFactory(domain=domain if role != CLOUD_ADMIN else Domain.objects.get(pk=ROOT_DOMAIN_ID))
    grant_on = {CLOUD_ADMIN: user.domain, DOMAIN_ADMIN: domain, PROJECT_MEMBER: project}[role]
    grant(user, role, grant_on)
    spare = UserFactory(domain=domain)
    assignment = grant(spare, policy.PROJECT_READER, project)
    other_project = ProjectFactory(domain=domain)

    zone = ZoneFactory()
    hosts = [HostFactory(zone=zone, public_key=agent_public_key(), cpus=64, ram_mb=1 << 20) for _ in range(2)]
    offering = OfferingFactory(public=True, ram_mb=64, root_disk_gb=1)
    # The world's instances are more than a new project's default limits allow.
    for resource in ("instances", "vcpus", "ram_mb"):
        set_limit(SYSTEM, project, resource, UNLIMITED)
    images = [active_image(project, name=f"active-{n}") for n in range(3)]
    queued = [queued_image(project, name=f"queued-{n}") for n in range(3)]
    # Their own, so that an import started on the others does not leave none to upload to.
    uploadable = [queued_image(project, name=f"uploadable-{n}") for n in range(3)]
    shared = shared_image(project, other_project)
    restorable = pending_delete_image(project)
    deactivated = deactivated_image(project)
    instances = {
        action: [
            InstanceFactory(
                project=project,
                offering=offering,
                host=hosts[0],
                image=images[0],
                vm_state=state,
                power_state=power,
            )
            for _ in range(PER_ACTION)
        ]
        for action, (state, power) in ACTION_STATES.items()
    }
    moves, move_hosts = _moves_of(project, images[0])
    empty_domain = DomainFactory(parent=domain)
    empty_project = ProjectFactory(domain=domain)
    empty_zone = ZoneFactory()
    deletable_host = HostFactory(zone=zone, public_key=agent_public_key())
    deletable_user = UserFactory(domain=domain)
    deletable_image = active_image(project, name="deletable")
    spare_offering = OfferingFactory(public=True)
    third_project = ProjectFactory(domain=domain)
    shareable = active_image(project, name="shareable", visibility="shared")
    fresh_user = UserFactory(domain=domain)
    keypair, _ = create_keypair(SYSTEM, project, name="fuzz-key")
    group = AffinityGroupFactory(project=project)
    api_key, _ = create_api_key(Actor(Principal(user), "127.0.0.1", "test"), project=project, name="fuzz")
    custom_role = create_role(SYSTEM, name=f"fuzz-role-{project.pk.hex[:8]}")
    # The rule's role is held by someone, so that no case deletes it (and its rule) as a whole.
    rules_role = create_role(SYSTEM, name=f"fuzz-rules-{project.pk.hex[:8]}")
    rule = add_rule(SYSTEM, role=rules_role, action_pattern="@read")
    RoleAssignment.objects.create(user=spare, role=rules_role, project=project)
    job = create_job("fuzz.example", target=project.target(), obj=project)
    # Finished, so that no job worker looks for a handler of this kind.
    Job.objects.filter(pk=job.pk).update(state=Job.SUCCEEDED)
    event = AuditEvent.objects.create(
        actor_name=user.username,
        interface="api",
        action="fuzz.example",
        outcome="success",
        domain_path=domain.path,
        project_id=project.pk,
    )
    now = timezone.now()
    next_hour = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    card = create_rate_card(SYSTEM, name="fuzz-card", currency=CURRENCY, domain=domain)
    rate = add_rate(SYSTEM, card, resource_type="instance", price=Decimal("0.01"), effective_from=next_hour)
    spare_card = create_rate_card(
        SYSTEM, name="fuzz-spare", currency=CURRENCY, domain=DomainFactory(parent=domain)
    )
    # Usage of last month priced by the domain's card, invoiced and the month closed: an invoice to credit.
    add_rate(SYSTEM, card, resource_type="instance", price=Decimal("0.1"), effective_from=LONG_AGO)
    invoice = finalized_invoice(project, offering)
    budget = create_budget(SYSTEM, amount=Decimal(100), currency=CURRENCY, project=project)
    deletable_budget = create_budget(SYSTEM, amount=Decimal(100), currency=CURRENCY, project=other_project)
    finding = HostAuditFinding.objects.create(
        host=hosts[0], kind=HostAuditFinding.UNMANAGED, subject="fuzz", first_seen=now, last_seen=now
    )

    network_ids = build_network_world(
        project=project, zone=zone, host=hosts[0], spare_host=hosts[1], offering=offering, image=images[0]
    )

    def ids(*objects):
        return [o.pk if isinstance(o.pk, int) else str(o.pk) for o in objects if o is not None]

    world = World(
        role=role,
        username=user.username,
        password=PASSWORD,
        token_scope={"project_id": str(project.pk)} if role == PROJECT_MEMBER else {},
        # The network node the network world adds gets host work too.
        host_names=[
            *Host.objects.filter(zone=zone).values_list("name", flat=True),
            *(host.name for host in move_hosts),
        ],
    )
    world.ids = {
        "projects": ids(project, other_project),
        "own_project": ids(project),
        "domains": ids(domain),
        "empty_domains": ids(empty_domain),
        "empty_projects": ids(empty_project),
        "deletable_hosts": ids(deletable_host),
        "deletable_users": ids(deletable_user),
        "deletable_images": ids(deletable_image),
        "users": ids(spare, user),
        "fresh_users": ids(fresh_user),
        "usernames": [user.username],
        "new_usernames": [f"fuzz-new-{project.pk.hex[:6]}-{n}" for n in range(8)],
        "new_host_names": [f"fuzz-{project.pk.hex[:6]}-{n}.example.test" for n in range(8)],
        "new_image_names": ["fuzz-image"],
        "disk_formats": ["raw", "qcow2"],
        "nothing": [None],
        "passwords": [PASSWORD],
        "zones": ids(zone),
        "empty_zones": ids(empty_zone),
        "hosts": ids(*hosts),
        "offerings": ids(offering),
        "spare_offerings": ids(spare_offering),
        "images": ids(*images, shared, restorable, deactivated),
        "active_images": ids(*images),
        "restorable_images": ids(restorable),
        "deactivated_images": ids(deactivated),
        "queued_images": ids(*queued),
        "uploadable_images": ids(*uploadable),
        "shareable_images": ids(shareable),
        "share_targets": ids(third_project),
        "offered_images": ids(shared),
        "share_members": ids(other_project),
        "import_urls": ["https://images.example.org/disk.raw"],
        "instances": ids(*(i for group in instances.values() for i in group)),
        **{f"instances_{action}": ids(*group) for action, group in instances.items()},
        "keypairs": ids(keypair),
        "affinity_groups": ids(group),
        "api_keys": ids(api_key),
        "roles": ids(custom_role),
        "role_names": [custom_role.name, policy.PROJECT_READER],
        "member_role": [policy.PROJECT_MEMBER],
        "rules": ids(rule),
        "role_assignments": ids(assignment),
        "quotas": ids(*QuotaUsage.objects.filter(project=project)),
        "resources": ["instances", "vcpus", "ram_mb"],
        "jobs": ids(job),
        "audit_events": ids(event),
        "findings": ids(finding),
        **moves,
        "rate_cards": ids(card),
        "deletable_rate_cards": ids(spare_card),
        "rates": ids(rate),
        "card_free_domains": ids(DomainFactory(parent=domain), DomainFactory(parent=domain)),
        "currencies": [CURRENCY],
        "card_names": ["fuzz-card-renamed", "fuzz-card-new"],
        "resource_types": ["instance", "image"],
        "whole_hours": [(next_hour + timedelta(hours=n)).isoformat() for n in range(1, 4)],
        "budgets": ids(budget),
        "invoices": ids(invoice),
        "credit_amounts": ["0.01"],
        "credit_reasons": ["goodwill"],
        "deletable_budgets": ids(deletable_budget),
        "budget_projects": ids(third_project),
        **network_ids,
    }
    return world


def _moves_of(project, image):
    """(The ids moves act on, by dictionary name: instances for each move, an offering to grow into, the
    host to send them to (or None: the scheduler's choice), hosts to fence and return to service; the
    hosts they are sent to.)"""
    zone = ZoneFactory()
    big = {"zone": zone, "cpus": 64, "ram_mb": 1 << 20}
    source, destination, fenced = (
        movable_host(**big, public_key=agent_public_key(), state=state)
        for state in (Host.UP, Host.UP, Host.FENCED)
    )
    offering = OfferingFactory(public=True, ram_mb=64, root_disk_gb=1)
    # What the resized instances grew from: their quota holds the larger size, their offering's.
    smaller = OfferingFactory(public=True, ram_mb=32, root_disk_gb=1)
    # Down, to be fenced; fenced, to be returned to service.
    fenceable = (Host.DOWN, Host.DOWN, Host.FENCED)

    def instances(**fields):
        return [
            InstanceFactory(project=project, offering=offering, image=image, **fields)
            for _ in range(PER_ACTION)
        ]

    moved = {
        f"instances_{action}": instances(host=source, vm_state=state, power_state=power)
        for action, (state, power) in MOVE_STATES.items()
    }
    resized = {
        f"instances_{action}": [
            resized_instance(
                source, smaller, project=project, offering=offering, image=image, host=destination
            )
            for _ in range(PER_ACTION)
        ]
        for action in ("confirm-resize", "revert-resize")
    }
    objects = {
        **moved,
        **resized,
        "instances_evacuate": instances(host=fenced, vm_state=states.ERROR, power_state="unknown"),
        "migrations": [m for group in resized.values() for i in group for m in i.migrations.all()],
        "larger_offerings": [OfferingFactory(public=True, vcpus=2, ram_mb=128, root_disk_gb=2)],
        "fence_hosts": [
            HostFactory(zone=zone, public_key=agent_public_key(), state=state) for state in fenceable
        ],
    }
    ids = {
        **{name: [str(o.pk) for o in group] for name, group in objects.items()},
        "move_destinations": [str(destination.pk), None],
        "yes": [True],
    }
    return ids, [source, destination, fenced]
