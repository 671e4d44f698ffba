from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "apps.metering"
    label = "metering"

    def ready(self):
        from apps.identity import signals

        from .recorder import record_project_move

        def on_project_moving(sender, *, project, new_domain, **kwargs):
            record_project_move(project.pk, project.domain.path, new_domain.path)

        signals.project_moving.connect(on_project_moving, dispatch_uid="metering.project_moving", weak=False)
