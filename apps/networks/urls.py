"""Portal pages of networks: the dashboard's networks, security groups and floating IPs; the admin
portal's VLAN pools, public pools, hosts' networks and network audit."""

from django.urls import path

from .web import admin, confirmations, dashboard

app_name = "networks"

PROJECT = "dashboard/projects/<uuid:project_id>/"
NETWORKS = f"{PROJECT}networks/"
GROUPS = f"{PROJECT}security-groups/"
GROUP = f"{GROUPS}<uuid:security_group_id>/"
FLOATING = f"{PROJECT}floating-ips/"
ADMIN = "admin-portal/networks/"

urlpatterns = [
    path(NETWORKS, dashboard.network_list, name="network-list"),
    path(f"{NETWORKS}create/", dashboard.network_create, name="network-create"),
    path(f"{NETWORKS}<uuid:network_id>/delete/", confirmations.network_delete, name="network-delete"),
    path(f"{NETWORKS}<uuid:network_id>/subnets/", dashboard.subnet_create, name="subnet-create"),
    path(f"{PROJECT}subnets/<uuid:subnet_id>/delete/", confirmations.subnet_delete, name="subnet-delete"),
    path(GROUPS, dashboard.security_group_list, name="security-group-list"),
    path(f"{GROUPS}create/", dashboard.security_group_create, name="security-group-create"),
    path(GROUP, dashboard.security_group_detail, name="security-group-detail"),
    path(f"{GROUP}delete/", confirmations.security_group_delete, name="security-group-delete"),
    path(f"{GROUP}rules/", dashboard.rule_create, name="rule-create"),
    path(f"{GROUP}rules/<uuid:security_rule_id>/delete/", confirmations.rule_delete, name="rule-delete"),
    path(FLOATING, dashboard.floating_ip_list, name="floating-ip-list"),
    path(f"{FLOATING}allocate/", dashboard.floating_ip_allocate, name="floating-ip-allocate"),
    path(
        f"{FLOATING}<uuid:floating_id>/associate/",
        dashboard.floating_ip_associate,
        name="floating-ip-associate",
    ),
    path(
        f"{FLOATING}<uuid:floating_id>/release/",
        confirmations.floating_ip_release,
        name="floating-ip-release",
    ),
    path(
        f"{FLOATING}<uuid:floating_id>/disassociate/",
        confirmations.floating_ip_disassociate,
        name="floating-ip-disassociate",
    ),
    path(f"{ADMIN}vlan-pools/", admin.vlan_pool_list, name="admin-vlan-pools"),
    path(f"{ADMIN}vlan-pools/create/", admin.vlan_pool_create, name="admin-vlan-pool-create"),
    path(
        f"{ADMIN}vlan-pools/<uuid:vlan_pool_id>/delete/",
        confirmations.vlan_pool_delete,
        name="admin-vlan-pool-delete",
    ),
    path(f"{ADMIN}public-pools/", admin.public_pool_list, name="admin-public-pools"),
    path(f"{ADMIN}public-pools/create/", admin.public_pool_create, name="admin-public-pool-create"),
    path(
        f"{ADMIN}public-pools/<uuid:public_pool_id>/delete/",
        confirmations.public_pool_delete,
        name="admin-public-pool-delete",
    ),
    path(f"{ADMIN}hosts/", admin.host_network_list, name="admin-host-networks"),
    path(f"{ADMIN}hosts/<uuid:host_id>/", admin.host_network_detail, name="admin-host-network"),
    path(f"{ADMIN}hosts/<uuid:host_id>/update/", admin.host_network_update, name="admin-host-network-update"),
    path(f"{ADMIN}audit/", admin.network_audit, name="admin-network-audit"),
    path(f"{ADMIN}audit/run/", admin.network_audit_run, name="admin-network-audit-run"),
]
