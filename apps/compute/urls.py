"""Portal pages of compute: instances, keypairs and affinity groups in the dashboard; instances for admins."""

from django.urls import path

from .web import views

app_name = "compute"

PROJECT = "dashboard/projects/<uuid:project_id>/"
INSTANCES = f"{PROJECT}instances/"
INSTANCE = f"{INSTANCES}<uuid:instance_id>/"
GROUPS = f"{PROJECT}affinity-groups/"

urlpatterns = [
    path(INSTANCES, views.instance_list, name="instance-list"),
    path(f"{INSTANCES}rows/", views.instance_rows, name="instance-rows"),
    path(f"{INSTANCES}launch/", views.instance_launch, name="instance-launch"),
    path(INSTANCE, views.instance_detail, name="instance-detail"),
    path(f"{INSTANCE}state/", views.instance_state, name="instance-state"),
    path(f"{INSTANCE}action/", views.instance_action, name="instance-action"),
    path(f"{INSTANCE}rebuild/", views.instance_rebuild, name="instance-rebuild"),
    path(f"{INSTANCE}interfaces/", views.instance_attach_interface, name="instance-attach-interface"),
    path(
        f"{INSTANCE}interfaces/<uuid:port_id>/detach/",
        views.instance_detach_interface,
        name="instance-detach-interface",
    ),
    path(f"{INSTANCE}snapshot/", views.instance_snapshot, name="instance-snapshot"),
    path(f"{INSTANCE}console/", views.instance_console, name="instance-console"),
    path(f"{PROJECT}keypairs/", views.keypair_list, name="keypair-list"),
    path(f"{PROJECT}keypairs/create/", views.keypair_create, name="keypair-create"),
    path(f"{PROJECT}keypairs/<uuid:keypair_id>/delete/", views.keypair_delete, name="keypair-delete"),
    path(GROUPS, views.affinity_group_list, name="affinity-group-list"),
    path(f"{GROUPS}create/", views.affinity_group_create, name="affinity-group-create"),
    path(f"{GROUPS}<uuid:group_id>/delete/", views.affinity_group_delete, name="affinity-group-delete"),
    path("admin-portal/instances/", views.admin_instance_list, name="admin-instance-list"),
]
