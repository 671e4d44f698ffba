from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "apps.networks"
    label = "networks"

    def ready(self):
        from django.db.models import Q

        from apps.core.policy import register_action
        from apps.identity import signals
        from apps.identity.ownership import register_project_owner
        from apps.quotas.holders import register_holder

        from . import quota_resources
        from .addressing import mac_prefix
        from .models import FloatingIP, Network, Port, Router, SecurityGroup, SecurityGroupRule, Subnet
        from .policy_actions import POLICY_ACTIONS
        from .receivers import project_created

        mac_prefix()
        for name, kind, description in POLICY_ACTIONS:
            register_action(name, kind, description)
        quota_resources.register()
        signals.project_created.connect(project_created, dispatch_uid="networks.project_created")
        for label, model, condition in [
            ("networks", Network, {}),
            ("ports", Port, {}),
            ("routers", Router, {}),
            ("floating IPs", FloatingIP, {}),
            ("security groups", SecurityGroup, {"is_default": False}),
        ]:
            register_project_owner(label, _counter(model, condition))
        for model, resource, live, project in [
            (Network, "networks", Q(project__isnull=False), "project_id"),
            (Subnet, "subnets", Q(network__project__isnull=False), "network__project_id"),
            (Port, "ports", Q(device_owner__in=Port.TENANT_OWNERS, project__isnull=False), "project_id"),
            (Router, "routers", Q(), "project_id"),
            (FloatingIP, "floating_ips", Q(), "project_id"),
            (SecurityGroup, "security_groups", Q(is_default=False), "project_id"),
            (SecurityGroupRule, "security_group_rules", Q(holds_quota=True), "project_id"),
        ]:
            register_holder(model, live=live, project=project, fields=(), claims=_one(resource))


def _one(resource):
    return lambda row: {resource: 1}


def _counter(model, condition):
    return lambda project_ids: model.objects.filter(project_id__in=project_ids, **condition).count()
