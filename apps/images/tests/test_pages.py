"""The image pages of the dashboard and the admin portal, through Django's test client."""

from django.test import Client

from apps.core import policy
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.images.models import Image, ImageMember
from apps.jobs.models import Job

from .factories import active_image, queued_image, shared_image


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def images_url(project, *rest):
    return "/".join([f"/dashboard/projects/{project.pk}/images", *map(str, rest), ""])


def test_the_dashboard_lists_the_projects_images_public_ones_and_accepted_shares(member, project):
    own = active_image(project, name="own-image")
    public = active_image(ProjectFactory(), name="public-image", visibility="public")
    offered = shared_image(ProjectFactory(), project, name="offered-image")
    hidden = active_image(ProjectFactory(), name="someone-elses-image")

    page = signed_in(member).get(images_url(project)).content.decode()

    assert own.name in page
    assert public.name in page
    assert "Offered to this project" in page
    assert offered.name in page
    assert hidden.name not in page
    assert 'id="image-upload"' in page


def test_accepting_an_offered_image_from_the_dashboard_lists_it(member, project):
    offered = shared_image(ProjectFactory(), project)

    response = signed_in(member).post(images_url(project, offered.pk, "action"), {"op": "accept"})

    assert response.status_code == 302
    assert ImageMember.objects.get(image=offered, project=project).status == ImageMember.ACCEPTED


def test_the_import_form_queues_a_job_and_the_image_page_shows_its_progress(member, project):
    client = signed_in(member)

    response = client.post(
        images_url(project, "import"),
        {
            "import-name": "debian",
            "import-disk_format": "qcow2",
            "import-visibility": "private",
            "import-url": "https://images.example.com/debian.qcow2",
        },
    )

    image = Image.objects.get(name="debian")
    job = Job.objects.get(object_id=str(image.pk))
    assert response["Location"] == images_url(project, image.pk)
    detail = client.get(response["Location"]).content.decode()
    assert f'id="job-{job.pk}"' in detail
    assert 'data-job-state="pending"' in detail


def test_an_import_of_an_unusable_url_shows_the_error_on_the_form(member, project):
    response = signed_in(member).post(
        images_url(project, "import"),
        {
            "import-name": "x",
            "import-disk_format": "raw",
            "import-visibility": "private",
            "import-url": "ftp://images.example.com/x.img",
        },
    )

    assert response.status_code == 400
    assert "Only http and https URLs can be imported." in response.content.decode()
    assert not Image.objects.exists()


def test_deleting_from_the_dashboard_asks_first_keeps_the_image_restorable_and_the_list_restores_it(
    member, project
):
    image = active_image(project, name="golden")
    client = signed_in(member)

    confirmation = client.get(images_url(project, image.pk, "delete")).content.decode()
    assert "Delete image golden?" in confirmation
    assert "can be restored until it is purged" in confirmation
    assert Image.objects.get(pk=image.pk).status == Image.ACTIVE

    deleted = client.post(images_url(project, image.pk, "delete"), follow=True).content.decode()
    image.refresh_from_db()
    assert image.status == Image.PENDING_DELETE
    assert "Image golden deleted; it can be restored until" in deleted
    listing = client.get(images_url(project)).content.decode()
    restorable = listing[listing.index("Deleted, not yet purged") :]
    assert 'data-image="golden"' in restorable
    assert 'value="restore"' in restorable

    restored = client.post(
        images_url(project, image.pk, "action"), {"op": "restore", "back": images_url(project)}
    )
    assert restored["Location"] == images_url(project)
    assert Image.objects.get(pk=image.pk).status == Image.ACTIVE


def test_another_tenants_image_page_is_a_404(member, project):
    image = queued_image(ProjectFactory())

    assert signed_in(member).get(images_url(project, image.pk)).status_code == 404


def test_the_admin_portal_shows_every_image_with_its_flags_and_the_store_usage(cloud_admin, project):
    active_image(project, name="golden", visibility="public", protected=True, content=b"x" * 5000)

    page = signed_in(cloud_admin).get("/admin-portal/images/").content.decode()

    assert "golden" in page
    assert ">public<" in page
    assert ">protected<" in page
    assert 'data-store="file"' in page
    assert "4.9\xa0KB" in page


def test_a_domain_admin_sees_the_images_of_their_domain_but_not_the_stores(project):
    admin = UserFactory(domain=project.domain)
    grant(admin, policy.DOMAIN_ADMIN, project.domain)
    active_image(project, name="in-my-domain")
    active_image(ProjectFactory(), name="elsewhere")

    page = signed_in(admin).get("/admin-portal/images/").content.decode()

    assert "in-my-domain" in page
    assert "elsewhere" not in page
    assert 'data-store="file"' not in page


def test_an_operator_publishes_protects_and_moves_an_image_from_the_admin_portal(cloud_admin, project):
    image = active_image(project)
    target = ProjectFactory()
    client = signed_in(cloud_admin)
    url = f"/admin-portal/images/{image.pk}/action/"

    client.post(url, {"op": "publish"})
    client.post(url, {"op": "protect"})
    client.post(url, {"op": "move", "project": str(target.pk)})

    image.refresh_from_db()
    assert (image.visibility, image.protected, image.owner_id) == ("public", True, target.pk)


def test_a_refused_operation_is_a_message_not_an_error_page(cloud_admin, project):
    image = active_image(project, protected=True)
    client = signed_in(cloud_admin)

    response = client.post(f"/admin-portal/images/{image.pk}/delete/", follow=True)

    assert response.status_code == 200
    assert "is protected" in response.content.decode()
    assert Image.objects.get(pk=image.pk).status == Image.ACTIVE


def test_a_domain_admin_learns_nothing_of_a_public_images_project_by_searching_or_sorting(project):
    admin = UserFactory(domain=project.domain)
    grant(admin, policy.DOMAIN_ADMIN, project.domain)
    active_image(project, name="ours")
    active_image(ProjectFactory(name="secret-project"), name="golden", visibility="public")
    client = signed_in(admin)

    listed = client.get("/admin-portal/images/").content.decode()
    assert "golden" in listed
    assert "secret-project" not in listed
    assert "another domain's project" in listed
    assert "golden" not in client.get("/admin-portal/images/?q=secret-project").content.decode()
    assert "sort=project" not in listed
    by_project = client.get("/admin-portal/images/?sort=-project").content.decode()
    assert by_project.index(">golden<") > 0
    assert 'aria-sort="ascending"' in by_project  # sorted by name, as when nothing is asked
