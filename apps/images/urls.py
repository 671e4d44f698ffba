"""Portal pages of images: in each project's dashboard, and in the admin portal."""

from django.urls import path

from apps.images.web import views

app_name = "images"

PROJECT = "dashboard/projects/<uuid:project_id>/images/"
ADMIN = "admin-portal/images/"

urlpatterns = [
    path(PROJECT, views.image_list, name="image-list"),
    path(f"{PROJECT}import/", views.image_import, name="image-import"),
    path(f"{PROJECT}<uuid:image_id>/", views.image_detail, name="image-detail"),
    path(f"{PROJECT}<uuid:image_id>/action/", views.image_action, name="image-action"),
    path(f"{PROJECT}<uuid:image_id>/delete/", views.image_delete, name="image-delete"),
    path(ADMIN, views.admin_image_list, name="admin-image-list"),
    path(f"{ADMIN}<uuid:image_id>/", views.admin_image_detail, name="admin-image-detail"),
    path(f"{ADMIN}<uuid:image_id>/action/", views.admin_image_action, name="admin-image-action"),
    path(f"{ADMIN}<uuid:image_id>/delete/", views.admin_image_delete, name="admin-image-delete"),
    path(f"{ADMIN}<uuid:image_id>/purge/", views.admin_image_purge, name="admin-image-purge"),
]
