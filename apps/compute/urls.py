"""Portal pages of compute: instances, keypairs and affinity groups in the dashboard; instances, offerings
and image prefetches for admins."""

from django.urls import path

from .web import admin_instances as admin
from .web import moves, offerings, prefetch, views

app_name = "compute"

PROJECT = "dashboard/projects/<uuid:project_id>/"
INSTANCES = f"{PROJECT}instances/"
INSTANCE = f"{INSTANCES}<uuid:instance_id>/"
GROUPS = f"{PROJECT}affinity-groups/"
ADMIN_INSTANCES = "admin-portal/instances/"
ADMIN_INSTANCE = f"{ADMIN_INSTANCES}<uuid:instance_id>/"
OFFERINGS = "admin-portal/offerings/"
OFFERING = f"{OFFERINGS}<uuid:offering_id>/"

urlpatterns = [
    path(INSTANCES, views.instance_list, name="instance-list"),
    path(f"{INSTANCES}rows/", views.instance_rows, name="instance-rows"),
    path(f"{INSTANCES}launch/", views.instance_launch, name="instance-launch"),
    path(INSTANCE, views.instance_detail, name="instance-detail"),
    path(f"{INSTANCE}state/", views.instance_state, name="instance-state"),
    path(f"{INSTANCE}action/", views.instance_action, name="instance-action"),
    path(f"{INSTANCE}delete/", views.instance_delete, name="instance-delete"),
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
    path(ADMIN_INSTANCES, admin.admin_instance_list, name="admin-instance-list"),
    path(ADMIN_INSTANCE, admin.admin_instance_detail, name="admin-instance-detail"),
    path(f"{ADMIN_INSTANCE}state/", admin.admin_instance_state, name="admin-instance-state"),
    path(f"{ADMIN_INSTANCE}action/", admin.admin_instance_action, name="admin-instance-action"),
    path(f"{ADMIN_INSTANCE}delete/", admin.admin_instance_delete, name="admin-instance-delete"),
    path(f"{ADMIN_INSTANCE}rebuild/", admin.admin_instance_rebuild, name="admin-instance-rebuild"),
    path(f"{ADMIN_INSTANCE}snapshot/", admin.admin_instance_snapshot, name="admin-instance-snapshot"),
    path("admin-portal/images/<uuid:image_id>/prefetch/", prefetch.image_prefetch, name="image-prefetch"),
    path(OFFERINGS, offerings.offering_list, name="offering-list"),
    path(f"{OFFERINGS}new/", offerings.offering_create, name="offering-create"),
    path(OFFERING, offerings.offering_detail, name="offering-detail"),
    path(f"{OFFERING}edit/", offerings.offering_update, name="offering-update"),
    path(f"{OFFERING}switch/", offerings.offering_switch, name="offering-switch"),
    path(f"{OFFERING}delete/", offerings.offering_delete, name="offering-delete"),
    path(f"{ADMIN_INSTANCE}move/", moves.instance_move, name="admin-instance-move"),
    path("admin-portal/hosts/<uuid:host_id>/drain/", moves.host_drain, name="admin-host-drain"),
]
