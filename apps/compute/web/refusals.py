"""A launch no host could take, said in words: what to do about it, and (for those who may see hosts)
what each scheduler filter ruled out, instead of "anti_affinity removed 1"."""

from ..models import AffinityGroup

# What the hosts a filter ruled out have (or lack), completing "N of the M hosts …".
FILTER_WORDS = {
    "compute": "are down, disabled, in maintenance or in a disabled zone",
    "availability_zone": "are in another zone",
    "host_tags": "lack a host tag the size needs",
    "ram": "lack free memory",
    "cores": "lack free vCPUs",
    "disk": "lack free disk",
    "image_properties": "do not match the image's architecture or hypervisor",
    "isolated_hosts": "are kept for isolated images, or are not isolated while the image must be",
    "different_host": "run an instance this one must avoid",
    "same_host": "do not run the instance this one must join",
    "cidr_affinity": "are outside the network this one must be near",
    "affinity": "are not the host where the affinity group runs",
    "anti_affinity": "already run an instance of the anti-affinity group",
}


def no_valid_host(error, group=None):
    """Sentences for a NoValidHost refusal of a launch (into `group`, if any)."""
    sentences = ["No host can take this instance now."]
    details = error.details
    if details.get("filters"):
        ruled_out = [
            f"{step['removed']} {FILTER_WORDS.get(step['filter'], 'are ruled out by ' + step['filter'])}"
            for step in details["filters"]
            if step["removed"]
        ]
        if ruled_out:
            sentences.append(f"Of the {details['hosts']} hosts: " + "; ".join(ruled_out) + ".")
    if group is not None and group.policy == AffinityGroup.ANTI_AFFINITY:
        sentences.append(
            f"Each instance of the anti-affinity group {group.name} needs a host of its own: delete one of"
            " its instances, or launch this one without the group."
        )
    elif group is not None:
        sentences.append(
            f"The affinity group {group.name} keeps its instances on one host: launch without the group"
            " if that host is full."
        )
    sentences.append("A smaller size may fit; otherwise ask your administrator for more capacity.")
    return sentences
