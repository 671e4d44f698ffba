from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "apps.networks"
    label = "networks"

    def ready(self):
        from django.db.models import Q

        from agent import protocol
        from agent.network_protocol import NetworkReport
        from apps.core.policy import register_action
        from apps.identity import signals
        from apps.identity.ownership import register_project_owner
        from apps.infrastructure.agent_api import hooks
        from apps.infrastructure.hostwork import kinds as host_work
        from apps.jobs.registry import register_periodic
        from apps.quotas.holders import register_holder

        from . import quota_resources
        from .addressing import mac_prefix
        from .agent_messages import network_report, network_state
        from .audit import audit_networks
        from .host_work import HOST_WORK
        from .models import FloatingIP, Network, Port, Router, SecurityGroup, SecurityGroupRule, Subnet
        from .policy_actions import POLICY_ACTIONS
        from .receivers import project_created
        from .web import portal

        mac_prefix()
        for name, kind, description in POLICY_ACTIONS:
            register_action(name, kind, description)
        quota_resources.register()
        signals.project_created.connect(project_created, dispatch_uid="networks.project_created")
        for work in HOST_WORK:
            host_work.register(work)
        register_periodic("networks.audit_networks", audit_networks)
        portal.register()
        hooks.register_query_handler(
            protocol.NETWORK_STATE_PATH.removeprefix(protocol.AGENT_API_PREFIX + "/"), network_state
        )
        hooks.register_message_handler(protocol.NETWORK_REPORT_PATH, NetworkReport, network_report)
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
