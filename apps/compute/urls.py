"""Portal pages of compute: instances and keypairs in each project's dashboard, all instances for admins."""

from django.urls import path

from .web import views

app_name = "compute"

PROJECT = "dashboard/projects/<uuid:project_id>/"
INSTANCES = f"{PROJECT}instances/"
INSTANCE = f"{INSTANCES}<uuid:instance_id>/"

urlpatterns = [
    path(INSTANCES, views.instance_list, name="instance-list"),
    path(f"{INSTANCES}rows/", views.instance_rows, name="instance-rows"),
    path(f"{INSTANCES}launch/", views.instance_launch, name="instance-launch"),
    path(INSTANCE, views.instance_detail, name="instance-detail"),
    path(f"{INSTANCE}state/", views.instance_state, name="instance-state"),
    path(f"{INSTANCE}action/", views.instance_action, name="instance-action"),
    path(f"{INSTANCE}rebuild/", views.instance_rebuild, name="instance-rebuild"),
    path(f"{INSTANCE}console/", views.instance_console, name="instance-console"),
    path(f"{PROJECT}keypairs/", views.keypair_list, name="keypair-list"),
    path(f"{PROJECT}keypairs/create/", views.keypair_create, name="keypair-create"),
    path(f"{PROJECT}keypairs/<uuid:keypair_id>/delete/", views.keypair_delete, name="keypair-delete"),
    path("admin-portal/instances/", views.admin_instance_list, name="admin-instance-list"),
]
