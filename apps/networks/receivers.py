"""What the networks app does when identity says a project came (connected in NetworksConfig.ready())."""

from .services.security_groups import default_group


def project_created(sender, project, **kwargs):
    """Every project has its `default` security group from the start, in the transaction that made it."""
    default_group(project)
