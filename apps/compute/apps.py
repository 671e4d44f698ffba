from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "apps.compute"
    label = "compute"

    def ready(self):
        from django.db.models import Q

        from apps.identity.ownership import register_project_owner
        from apps.infrastructure.agent_api import hooks
        from apps.quotas.holders import register_holder

        from . import actions, dispatch, host_audit, jobs, states, web_audit  # noqa: F401  (actions, periodic work, job handlers)
        from .agent_messages import handle_report, images_for_host, report_checks, sync_power_states
        from .models import AffinityGroup, Instance, Keypair
        from .prefetch import PREFETCH_JOB, images_for_prefetch
        from .prefetch import handle_report as handle_prefetch_report
        from .services.snapshots import images_host_may_write
        from .web import portal

        hooks.register_report_handler("compute.instance.", handle_report, report_checks)
        hooks.register_inventory_handler(sync_power_states)
        hooks.register_image_reader(images_for_host)
        hooks.register_report_handler(PREFETCH_JOB, handle_prefetch_report)
        hooks.register_image_reader(images_for_prefetch)
        hooks.register_image_writer(images_host_may_write)
        portal.register()
        web_audit.register()

        register_project_owner(
            "instances",
            lambda ids: Instance.objects.filter(project_id__in=ids).exclude(vm_state="deleted").count(),
        )
        register_holder(
            Instance,
            live=~Q(vm_state=states.DELETED),
            project="project_id",
            fields=("vcpus", "ram_mb"),
            claims=lambda row: Instance(vcpus=row["vcpus"], ram_mb=row["ram_mb"]).quota(),
        )
        register_project_owner("keypairs", lambda ids: Keypair.objects.filter(project_id__in=ids).count())
        register_project_owner(
            "affinity groups", lambda ids: AffinityGroup.objects.filter(project_id__in=ids).count()
        )
