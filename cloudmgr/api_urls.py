"""All of /api/v1/: one router, each app's viewsets, the OpenAPI schema and its docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.audit.api.views import AuditEventViewSet
from apps.billing.api import views as billing
from apps.compute.api import views as compute
from apps.compute.api.host_audit import HostAuditViewSet
from apps.compute.api.prefetch import ImagePrefetchViewSet
from apps.core.api.root import ApiRootView
from apps.identity.api import views as identity
from apps.identity.api.apikey_views import ApiKeyViewSet
from apps.images.api.file_views import ImageFileView
from apps.images.api.views import ImageViewSet
from apps.infrastructure.api import views as infrastructure
from apps.jobs.api.views import JobViewSet
from apps.networks.api import admin_views as networks_admin
from apps.networks.api import views as networks
from apps.quotas.api.views import DefaultQuotaViewSet, QuotaViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
# JSON is the only renderer, so `/projects/<id>.json` twins add nothing (and views take no `format`).
router.include_format_suffixes = False
router.register("domains", identity.DomainViewSet, basename="domain")
router.register("projects", identity.ProjectViewSet, basename="project")
router.register("users", identity.UserViewSet, basename="user")
router.register("roles", identity.RoleViewSet, basename="role")
router.register("rules", identity.RuleViewSet, basename="rule")
router.register("role-assignments", identity.RoleAssignmentViewSet, basename="role-assignment")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("quotas", QuotaViewSet, basename="quota")
router.register("quota-defaults", DefaultQuotaViewSet, basename="quota-default")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("jobs", JobViewSet, basename="job")
router.register("images", ImageViewSet, basename="image")
router.register("zones", infrastructure.ZoneViewSet, basename="zone")
router.register("hosts", infrastructure.HostViewSet, basename="host")
router.register("offerings", compute.OfferingViewSet, basename="offering")
router.register("keypairs", compute.KeypairViewSet, basename="keypair")
router.register("affinity-groups", compute.AffinityGroupViewSet, basename="affinity-group")
router.register("instances", compute.InstanceViewSet, basename="instance")
router.register("migrations", compute.MigrationViewSet, basename="migration")
router.register("host-audit", HostAuditViewSet, basename="host-audit")
router.register("image-prefetches", ImagePrefetchViewSet, basename="image-prefetch")
router.register("networks", networks.NetworkViewSet, basename="network")
router.register("subnets", networks.SubnetViewSet, basename="subnet")
router.register("ports", networks.PortViewSet, basename="port")
router.register("floating-ips", networks.FloatingIPViewSet, basename="floating-ip")
router.register("routers", networks.RouterViewSet, basename="router")
router.register("security-groups", networks.SecurityGroupViewSet, basename="security-group")
router.register("security-group-rules", networks.SecurityGroupRuleViewSet, basename="security-group-rule")
router.register("vlan-pools", networks_admin.VlanPoolViewSet, basename="vlan-pool")
router.register("public-pools", networks_admin.PublicPoolViewSet, basename="public-pool")
router.register("host-networks", networks_admin.HostNetworkViewSet, basename="host-network")
router.register("usage", billing.UsageViewSet, basename="usage")
router.register("rate-cards", billing.RateCardViewSet, basename="rate-card")
router.register("invoices", billing.InvoiceViewSet, basename="invoice")
router.register("budgets", billing.BudgetViewSet, basename="budget")

ROOT_RESOURCES = {
    **{prefix: f"{basename}-list" for prefix, _, basename in router.registry},
    "auth/tokens": "token-list",
}

urlpatterns = [
    path("", ApiRootView.as_view(resources=ROOT_RESOURCES), name="root"),
    path("auth/tokens/", identity.TokenView.as_view(), name="token-list"),
    path("auth/tokens/current/", identity.CurrentTokenView.as_view(), name="token-current"),
    path("auth/password/", identity.PasswordView.as_view(), name="password-change"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # With or without the trailing slash: `PUT …/file` must not meet APPEND_SLASH's redirect.
    re_path(r"^images/(?P<image_id>[0-9a-f-]{36})/file/?$", ImageFileView.as_view(), name="image-file"),
    path("", include("apps.monitoring.api.urls")),
    *router.urls,
]
