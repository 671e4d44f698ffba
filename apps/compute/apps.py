from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "apps.compute"
    label = "compute"

    def ready(self):
        from apps.identity.ownership import register_project_owner

        from . import actions, jobs  # noqa: F401  (registers actions and job handlers)
        from .models import AffinityGroup, Instance, Keypair

        register_project_owner(
            "instances",
            lambda ids: Instance.objects.filter(project_id__in=ids).exclude(vm_state="deleted").count(),
        )
        register_project_owner("keypairs", lambda ids: Keypair.objects.filter(project_id__in=ids).count())
        register_project_owner(
            "affinity groups", lambda ids: AffinityGroup.objects.filter(project_id__in=ids).count()
        )
