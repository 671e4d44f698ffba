"""Who sees an image: its project, everyone (public, by admins), or projects it is shared with."""

import json
import uuid

from apps.conftest import login
from apps.core import policy
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant

from .factories import active_image


def member_api(project):
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_MEMBER, project)
    return login(user, project_id=project.pk)


def listed(api, query=""):
    return [image["id"] for image in api.get(f"/api/v1/images/{query}").data["results"]]


def test_a_private_image_is_a_404_to_another_tenant(api, project):
    image = active_image(project)
    stranger = member_api(ProjectFactory())

    assert stranger.get(f"/api/v1/images/{image.pk}/").status_code == 404
    assert stranger.get(f"/api/v1/images/{image.pk}/file").status_code == 404
    assert listed(stranger) == []


def test_a_shared_image_is_listed_by_the_member_project_once_it_accepts(api, project):
    image = active_image(project)
    other = ProjectFactory()
    member = member_api(other)
    api.patch(f"/api/v1/images/{image.pk}/", {"visibility": "shared"}, format="json")

    offered = api.post(f"/api/v1/images/{image.pk}/share/", {"project_id": str(other.pk)}, format="json")

    assert offered.status_code == 201
    assert offered.data["status"] == "pending"
    assert listed(member) == []
    assert listed(member, "?member_status=pending") == [str(image.pk)]
    assert member.get(f"/api/v1/images/{image.pk}/").status_code == 200
    assert member.post(f"/api/v1/images/{image.pk}/accept/").data["status"] == "accepted"
    assert listed(member) == [str(image.pk)]
    assert member.get(f"/api/v1/images/{image.pk}/file").status_code == 200


def test_a_member_project_cannot_change_or_reshare_the_image(api, project):
    image = active_image(project, visibility="shared")
    other, third = ProjectFactory(), ProjectFactory()
    api.post(f"/api/v1/images/{image.pk}/share/", {"project_id": str(other.pk)}, format="json")
    member = member_api(other)
    member.post(f"/api/v1/images/{image.pk}/accept/")

    assert member.patch(f"/api/v1/images/{image.pk}/", {"name": "mine"}, format="json").status_code == 403
    assert (
        member.post(
            f"/api/v1/images/{image.pk}/share/", {"project_id": str(third.pk)}, format="json"
        ).status_code
        == 403
    )
    assert member.delete(f"/api/v1/images/{image.pk}/").status_code == 403
    assert [m["project_id"] for m in member.get(f"/api/v1/images/{image.pk}/members/").data] == [
        str(other.pk)
    ]


def test_a_rejected_share_disappears_and_an_unshared_image_is_gone(api, project):
    image = active_image(project, visibility="shared")
    other = ProjectFactory()
    member = member_api(other)
    api.post(f"/api/v1/images/{image.pk}/share/", {"project_id": str(other.pk)}, format="json")

    member.post(f"/api/v1/images/{image.pk}/reject/")

    assert listed(member, "?member_status=all") == [str(image.pk)]
    assert member.get(f"/api/v1/images/{image.pk}/").status_code == 404
    api.post(f"/api/v1/images/{image.pk}/unshare/", {"project_id": str(other.pk)}, format="json")
    assert listed(member, "?member_status=all") == []


def test_sharing_needs_shared_visibility(api, project):
    image = active_image(project)

    response = api.post(
        f"/api/v1/images/{image.pk}/share/", {"project_id": str(ProjectFactory().pk)}, format="json"
    )

    assert (response.status_code, response.data["error"]["code"]) == (409, "image_not_shared")


def test_only_cloud_admins_make_an_image_public_and_then_everyone_sees_it(api, project, admin_api):
    image = active_image(project)
    stranger = member_api(ProjectFactory())

    refused = api.patch(f"/api/v1/images/{image.pk}/", {"visibility": "public"}, format="json")
    published = admin_api.patch(f"/api/v1/images/{image.pk}/", {"visibility": "public"}, format="json")

    assert refused.status_code == 403
    assert published.data["visibility"] == "public"
    assert listed(stranger) == [str(image.pk)]
    assert stranger.get(f"/api/v1/images/{image.pk}/file").status_code == 200
    assert stranger.patch(f"/api/v1/images/{image.pk}/", {"name": "x"}, format="json").status_code == 403


def test_a_public_image_that_is_not_active_stays_with_its_project(api, project, admin_api):
    image = active_image(project, visibility="public")
    stranger = member_api(ProjectFactory())
    api.delete(f"/api/v1/images/{image.pk}/")

    assert stranger.get(f"/api/v1/images/{image.pk}/").status_code == 404
    assert api.get(f"/api/v1/images/{image.pk}/").data["status"] == "pending_delete"


def test_lists_filter_by_visibility_format_status_and_owner(api, project):
    raw = active_image(project, name="raw")
    aki = active_image(project, name="kernel", disk_format="aki", visibility="shared")
    other = ProjectFactory()

    assert listed(api, "?visibility=shared") == [str(aki.pk)]
    assert listed(api, "?disk_format=raw") == [str(raw.pk)]
    assert listed(api, "?status=queued") == []
    assert set(listed(api, f"?owner={project.pk}")) == {str(raw.pk), str(aki.pk)}
    assert listed(api, f"?owner={other.pk}") == []


def test_sharing_answers_the_same_for_another_tenants_project_and_a_project_that_does_not_exist(api, project):
    image = active_image(project, visibility="shared")
    theirs = ProjectFactory(name="their-secret-project")
    url = f"/api/v1/images/{image.pk}/"

    def answers(project_id):
        steps = [
            api.post(url + "share/", {"project_id": project_id}, format="json"),
            api.post(url + "share/", {"project_id": project_id}, format="json"),
            api.post(url + "unshare/", {"project_id": project_id}, format="json"),
            api.post(url + "unshare/", {"project_id": project_id}, format="json"),
        ]
        bodies = [json.loads(r.content.decode().replace(project_id, "<id>") or "{}") for r in steps]
        bodies[0] = {k: v for k, v in bodies[0].items() if k not in ("created_at", "updated_at")}
        return [(r.status_code, body) for r, body in zip(steps, bodies, strict=True)]

    for_theirs, for_nobody = answers(str(theirs.pk)), answers(str(uuid.uuid4()))

    assert for_theirs == for_nobody
    assert [status for status, _ in for_theirs] == [201, 409, 204, 404]
    assert "their-secret-project" not in str(for_theirs)


def test_a_share_with_a_project_that_does_not_exist_is_listed_by_id_and_can_be_withdrawn(api, project):
    image = active_image(project, visibility="shared")
    nobody = str(uuid.uuid4())
    api.post(f"/api/v1/images/{image.pk}/share/", {"project_id": nobody}, format="json")

    members = api.get(f"/api/v1/images/{image.pk}/members/").data

    assert [(m["project_id"], m["status"]) for m in members] == [(nobody, "pending")]
    assert (
        api.post(f"/api/v1/images/{image.pk}/unshare/", {"project_id": nobody}, format="json").status_code
        == 204
    )
