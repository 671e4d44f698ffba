from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "apps.metering"
    label = "metering"

    def ready(self):
        from apps.identity.signals import project_moved

        from .recorder import record_project_move

        def on_project_moved(sender, *, project, from_path, to_path, at, **kwargs):
            record_project_move(project.pk, from_path, to_path, at=at)

        project_moved.connect(on_project_moved, dispatch_uid="metering.record_project_move", weak=False)
