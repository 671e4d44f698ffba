"""What hosts ask and tell about their networks, at the agent endpoint (signed by the host).

- GET network-state: the signing host's own desired state, and no other's: the
  host is the one whose key signed the request, the path names nothing else;
- POST network-reports: what the host observed of its network and the
  differences it found (on agent start, after every sync and audit, and when it
  restarted a daemon). The observation is kept for the admin portal's host
  network page; the differences join the host audit's findings (the only way
  they do: a sync or audit task's result says the same, and is left to its job).
  A host can only ever write its own.

Registered with the agent endpoint's hooks in NetworksConfig.ready().
"""

from django.utils import timezone

from agent.network_protocol import NetworkReport

from .findings import record_drift
from .host_state import desired_state
from .models import HostNetworkConfig

# More differences than any real host has: a report beyond it is cut, never stored whole.
MAX_REPORTED_DRIFT = 1000


def network_state(host):
    return desired_state(host).to_dict()


def network_report(host, report: NetworkReport):
    config, _ = HostNetworkConfig.objects.get_or_create(host=host)
    HostNetworkConfig.objects.filter(pk=config.pk).update(
        observed=report.observed.to_dict(), observed_generation=report.generation, observed_at=timezone.now()
    )
    record_drift(host, report.drift[:MAX_REPORTED_DRIFT], complete=report.complete)
    return {}
