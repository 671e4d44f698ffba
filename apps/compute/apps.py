from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "apps.compute"
    label = "compute"

    def ready(self):
        from django.db.models import Q

        from apps.core.policy import register_action
        from apps.identity.ownership import register_project_owner
        from apps.images import host_access
        from apps.infrastructure import signals as host_signals
        from apps.infrastructure.agent_api import hooks
        from apps.infrastructure.hostwork import kinds as host_work
        from apps.jobs.registry import register_periodic
        from apps.quotas.holders import register_holder

        from . import job_words, states
        from .agent_messages import images_for_host, sync_power_states
        from .host_audit import audit_hosts
        from .host_work import INSTANCE_ACTIONS
        from .instance_metadata import metadata_for_host
        from .interfaces import INTERFACE_ACTIONS
        from .models import AffinityGroup, Instance, Keypair, quota_of
        from .moves.work import MOVE_KINDS, images_for_moves
        from .policy_actions import POLICY_ACTIONS
        from .prefetch import ImagePrefetch, images_for_prefetch
        from .services import host_loss, maintenance
        from .services.snapshots import images_host_may_write
        from .web import host_audit as host_audit_pages
        from .web import portal

        for name, kind, description in POLICY_ACTIONS:
            register_action(name, kind, description)
        for work in (*INSTANCE_ACTIONS.values(), *INTERFACE_ACTIONS, ImagePrefetch(), *MOVE_KINDS):
            host_work.register(work)
        hooks.register_query_handler("instances/<uuid:instance_id>/metadata", metadata_for_host)
        register_periodic("compute.audit_hosts", audit_hosts)
        register_periodic("compute.continue_drains", maintenance.continue_drains)
        host_signals.hosts_went_down.connect(host_loss.hosts_went_down)
        host_signals.host_fenced.connect(host_loss.host_fenced)
        host_signals.maintenance_changed.connect(maintenance.maintenance_changed)
        host_signals.register_occupant(host_loss.occupants)
        states.move_ended.connect(maintenance.move_ended)
        host_access.register_image_reader(images_for_moves)
        hooks.register_inventory_handler(sync_power_states)
        host_access.register_image_reader(images_for_host)
        host_access.register_image_reader(images_for_prefetch)
        host_access.register_image_writer(images_host_may_write)
        portal.register()
        host_audit_pages.register()
        job_words.register()

        register_project_owner(
            "instances",
            lambda ids: Instance.objects.filter(project_id__in=ids).exclude(vm_state="deleted").count(),
        )
        register_holder(
            Instance,
            live=~Q(vm_state=states.DELETED),
            project="project_id",
            fields=("vcpus", "ram_mb", "previous_offering__vcpus", "previous_offering__ram_mb"),
            claims=lambda row: quota_of(
                row["vcpus"], row["ram_mb"], row["previous_offering__vcpus"], row["previous_offering__ram_mb"]
            ),
        )
        register_project_owner("keypairs", lambda ids: Keypair.objects.filter(project_id__in=ids).count())
        register_project_owner(
            "affinity groups", lambda ids: AffinityGroup.objects.filter(project_id__in=ids).count()
        )
