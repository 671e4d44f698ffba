"""Every form's address can be opened again: a reload after a refused form, or a bookmark, is a GET that
goes to the page the form is on (post/redirect/get), never a bare 405; and every destructive action's
address, opened, is a confirmation that names what it destroys and changes nothing."""

import pytest

from apps.compute.services.affinity import create_affinity_group
from apps.compute.services.keypairs import create_keypair
from apps.compute.tests.factories import InstanceFactory, OfferingFactory
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.models import Role, Rule
from apps.identity.tests.factories import DomainFactory, ProjectFactory, grant
from apps.images.tests.factories import active_image, pending_delete_image
from apps.infrastructure.tests.factories import HostFactory, ZoneFactory

SYSTEM = Actor.system("test")


@pytest.fixture
def things(cloud_admin, tenant):
    grant(cloud_admin, policy.PROJECT_MEMBER, tenant.project)
    project = tenant.project
    return {
        "project": project,
        "domain": tenant.domain,
        "user": tenant.member,
        "assignment": tenant.member.assignments.get(),
        "instance": InstanceFactory(project=project, name="web-1"),
        "keypair": create_keypair(SYSTEM, project, name="laptop")[0],
        "group": create_affinity_group(SYSTEM, project, name="spread", policy="anti-affinity"),
        "image": active_image(project, name="golden"),
        "deleted_image": pending_delete_image(project, name="old"),
        "role": Role.objects.create(name="operator"),
        "rule": Rule.objects.create(role=Role.objects.create(name="auditor"), action="audit.*"),
        "offering": OfferingFactory(name="m1.small"),
        "zone": ZoneFactory(name="zone-a"),
        "host": HostFactory(name="kvm-01"),
        "empty_domain": DomainFactory(parent=tenant.domain, name="spare"),
        "empty_project": ProjectFactory(domain=tenant.domain, name="spare-project"),
    }


def dashboard(t, rest=""):
    return f"/dashboard/projects/{t['project'].pk}/{rest}"


# (form's address, the page a GET of it goes to)
FORMS = [
    (lambda t: "/admin-portal/domains/new/", lambda t: "/admin-portal/domains/"),
    (
        lambda t: f"/admin-portal/domains/{t['domain'].pk}/edit/",
        lambda t: f"/admin-portal/domains/{t['domain'].pk}/",
    ),
    (
        lambda t: f"/admin-portal/domains/{t['domain'].pk}/limits/",
        lambda t: f"/admin-portal/domains/{t['domain'].pk}/",
    ),
    (lambda t: "/admin-portal/projects/new/", lambda t: "/admin-portal/projects/"),
    (
        lambda t: f"/admin-portal/projects/{t['project'].pk}/edit/",
        lambda t: f"/admin-portal/projects/{t['project'].pk}/",
    ),
    (
        lambda t: f"/admin-portal/projects/{t['project'].pk}/limits/",
        lambda t: f"/admin-portal/projects/{t['project'].pk}/",
    ),
    (lambda t: "/admin-portal/users/new/", lambda t: "/admin-portal/users/"),
    (lambda t: f"/admin-portal/users/{t['user'].pk}/edit/", lambda t: f"/admin-portal/users/{t['user'].pk}/"),
    (
        lambda t: f"/admin-portal/users/{t['user'].pk}/password/",
        lambda t: f"/admin-portal/users/{t['user'].pk}/",
    ),
    (
        lambda t: f"/admin-portal/users/{t['user'].pk}/roles/",
        lambda t: f"/admin-portal/users/{t['user'].pk}/",
    ),
    (lambda t: "/admin-portal/roles/new/", lambda t: "/admin-portal/roles/"),
    (lambda t: "/admin-portal/quotas/defaults/", lambda t: "/admin-portal/quotas/"),
    (lambda t: "/admin-portal/offerings/new/", lambda t: "/admin-portal/offerings/"),
    (
        lambda t: f"/admin-portal/offerings/{t['offering'].pk}/edit/",
        lambda t: f"/admin-portal/offerings/{t['offering'].pk}/",
    ),
    (lambda t: "/admin-portal/zones/new/", lambda t: "/admin-portal/zones/"),
    (lambda t: f"/admin-portal/zones/{t['zone'].pk}/edit/", lambda t: f"/admin-portal/zones/{t['zone'].pk}/"),
    (
        lambda t: f"/admin-portal/hosts/{t['host'].pk}/token/",
        lambda t: f"/admin-portal/hosts/{t['host'].pk}/",
    ),
    (
        lambda t: f"/admin-portal/images/{t['image'].pk}/prefetch/",
        lambda t: f"/admin-portal/images/{t['image'].pk}/",
    ),
    (
        lambda t: f"/admin-portal/instances/{t['instance'].pk}/rebuild/",
        lambda t: f"/admin-portal/instances/{t['instance'].pk}/",
    ),
    (
        lambda t: f"/admin-portal/instances/{t['instance'].pk}/snapshot/",
        lambda t: f"/admin-portal/instances/{t['instance'].pk}/",
    ),
    (lambda t: dashboard(t, "members/new/"), lambda t: dashboard(t, "members/")),
    (lambda t: dashboard(t, "keypairs/create/"), lambda t: dashboard(t, "keypairs/")),
    (lambda t: dashboard(t, "affinity-groups/create/"), lambda t: dashboard(t, "affinity-groups/")),
    (lambda t: dashboard(t, "images/import/"), lambda t: dashboard(t, "images/")),
    (
        lambda t: dashboard(t, f"instances/{t['instance'].pk}/rebuild/"),
        lambda t: dashboard(t, f"instances/{t['instance'].pk}/"),
    ),
    (
        lambda t: dashboard(t, f"instances/{t['instance'].pk}/snapshot/"),
        lambda t: dashboard(t, f"instances/{t['instance'].pk}/"),
    ),
]


@pytest.mark.parametrize(("form", "page"), FORMS, ids=lambda f: "")
def test_opening_a_forms_address_again_goes_to_its_page(admin_client, things, form, page):
    response = admin_client.get(form(things))
    assert response.status_code == 302, (form(things), response.status_code)
    assert response["Location"] == page(things)


def test_a_refused_rules_address_opened_again_shows_the_roles_page(admin_client, things):
    response = admin_client.get(f"/admin-portal/roles/{things['role'].pk}/rules/")
    assert response.status_code == 200
    assert "<h1>Roles and rules</h1>" in response.content.decode()


# (destructive action's address, words its confirmation must say, the object that must still be there)
DESTRUCTIVE = [
    (lambda t: dashboard(t, f"instances/{t['instance'].pk}/delete/"), "Delete instance web-1?", "instance"),
    (lambda t: f"/admin-portal/instances/{t['instance'].pk}/delete/", "Delete instance web-1?", "instance"),
    (lambda t: dashboard(t, f"keypairs/{t['keypair'].pk}/delete/"), "Delete keypair laptop?", "keypair"),
    (
        lambda t: dashboard(t, f"affinity-groups/{t['group'].pk}/delete/"),
        "Delete affinity group spread?",
        "group",
    ),
    (lambda t: dashboard(t, f"images/{t['image'].pk}/delete/"), "Delete image golden?", "image"),
    (lambda t: f"/admin-portal/images/{t['image'].pk}/delete/", "Delete image golden?", "image"),
    (
        lambda t: f"/admin-portal/images/{t['deleted_image'].pk}/purge/",
        "Purge image old now?",
        "deleted_image",
    ),
    (
        lambda t: f"/admin-portal/domains/{t['empty_domain'].pk}/delete/",
        "Delete domain spare?",
        "empty_domain",
    ),
    (
        lambda t: f"/admin-portal/projects/{t['empty_project'].pk}/delete/",
        "Delete project spare-project?",
        "empty_project",
    ),
    (lambda t: f"/admin-portal/users/{t['user'].pk}/delete/", "Delete user ", "user"),
    (
        lambda t: f"/admin-portal/role-assignments/{t['assignment'].pk}/delete/",
        "Take the role project_member on project ",
        "assignment",
    ),
    (lambda t: f"/admin-portal/roles/{t['role'].pk}/delete/", "Delete role operator?", "role"),
    (
        lambda t: f"/admin-portal/rules/{t['rule'].pk}/delete/",
        "Remove the rule &#x27;audit.*&#x27; from auditor?",
        "rule",
    ),
    (
        lambda t: f"/admin-portal/offerings/{t['offering'].pk}/delete/",
        "Delete offering m1.small?",
        "offering",
    ),
    (lambda t: f"/admin-portal/zones/{t['zone'].pk}/delete/", "Delete zone zone-a?", "zone"),
]


@pytest.mark.parametrize(("address", "says", "kept"), DESTRUCTIVE, ids=lambda f: "")
def test_a_destructive_actions_address_asks_first_and_changes_nothing(
    admin_client, things, address, says, kept
):
    obj = things[kept]
    before = type(obj)._base_manager.filter(pk=obj.pk).values().get()

    response = admin_client.get(address(things))

    page = response.content.decode()
    assert response.status_code == 200
    assert says in page
    assert 'id="confirmation"' in page
    assert f'<form method="post" action="{address(things)}' in page
    assert type(obj)._base_manager.filter(pk=obj.pk).values().get() == before


def test_a_tenants_instance_page_offers_delete_only_behind_its_confirmation(client, things, tenant):
    client.force_login(tenant.member)
    instance = things["instance"].pk
    page = client.get(dashboard(things, f"instances/{instance}/")).content.decode()
    assert 'value="delete"' not in page
    assert f'href="{dashboard(things, f"instances/{instance}/delete/")}" class="button danger"' in page
