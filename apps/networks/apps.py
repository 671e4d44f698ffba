from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "apps.networks"
    label = "networks"

    def ready(self):
        from apps.identity.ownership import register_project_owner
        from apps.identity.project_hooks import register_project_created

        from . import actions, quota_resources
        from .addressing import mac_prefix
        from .models import FloatingIP, Network, Port, Router, SecurityGroup
        from .services.security_groups import default_group

        mac_prefix()
        actions.register()
        quota_resources.register()
        register_project_created("networks: default security group", default_group)
        for label, model, condition in [
            ("networks", Network, {}),
            ("ports", Port, {}),
            ("routers", Router, {}),
            ("floating IPs", FloatingIP, {}),
            ("security groups", SecurityGroup, {"is_default": False}),
        ]:
            register_project_owner(label, _counter(model, condition))


def _counter(model, condition):
    return lambda project_ids: model.objects.filter(project_id__in=project_ids, **condition).count()
