"""What apps above identity do when a project is created, inside the transaction that creates it.

Identity sits below them and imports none of them: each registers a hook in
its AppConfig.ready(), `register_project_created(label, hook)`, and
`create_project` calls every hook with the new project. A hook that raises
rolls the project back.
"""

_created = {}


def register_project_created(label, hook):
    _created[label] = hook


def project_created(project):
    for hook in _created.values():
        hook(project)
