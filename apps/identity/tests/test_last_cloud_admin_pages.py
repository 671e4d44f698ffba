"""The pages show the services' refusal to leave the cloud without a cloud admin.

The refusal is the identity service's (taking cloud_admin on ROOT from its last
holder, or removing the rule that gives cloud_admin every action): these tests
check that the pages ask first, then show the refusal as a message on the page
the action was asked from, with nothing changed. They need that refusal in the
services (the hardening work of issue 11); the pages handle any refusal of the
service the same way, whatever its code.
"""

from apps.core import policy
from apps.identity.models import RoleAssignment, Rule
from apps.portal.tests.conftest import signed_in


def refusal_on(page):
    """The error message a refused action left on the page it went back to."""
    start = page.index('class="message error"')
    return page[start : page.index("</li>", start)]


def test_taking_cloud_admin_from_its_last_holder_is_refused_on_the_users_page(cloud_admin):
    assignment = RoleAssignment.objects.get(user=cloud_admin, role__name=policy.CLOUD_ADMIN)
    client = signed_in(cloud_admin)
    user_page = f"/admin-portal/users/{cloud_admin.pk}/"
    remove = f"/admin-portal/role-assignments/{assignment.pk}/delete/"

    confirmation = client.get(f"{remove}?back={user_page}").content.decode()
    assert f"Take the role cloud_admin on domain ROOT away from {cloud_admin.username}?" in confirmation

    response = client.post(remove, {"back": user_page}, follow=True)

    assert response.redirect_chain[-1][0] == user_page
    assert "cloud" in refusal_on(response.content.decode()).lower()
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_removing_the_rule_that_gives_cloud_admin_everything_is_refused_on_the_roles_page(cloud_admin):
    rule = Rule.objects.get(role__name=policy.CLOUD_ADMIN, action="*")
    client = signed_in(cloud_admin)

    response = client.post(f"/admin-portal/rules/{rule.pk}/delete/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/admin-portal/roles/")
    assert "cloud_admin" in refusal_on(response.content.decode())
    assert Rule.objects.filter(pk=rule.pk).exists()
