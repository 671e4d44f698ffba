"""Forms of the offerings pages: a new offering (sizes included), and the changes an offering allows."""

from django import forms

from apps.core.web.forms import ServiceForm
from apps.identity.selectors import domains_for
from apps.identity.web.selectors import domain_labels

from ..models import ServiceOffering

# The columns are PostgreSQL integers.
INT_MAX = 2**31 - 1


class DomainsField(forms.ModelMultipleChoiceField):
    """Domains the admin may see, each named by its path ("acme / eng")."""

    def __init__(self, principal, **kwargs):
        queryset = domains_for(principal)
        domains = list(queryset)
        labels = domain_labels(domains)
        super().__init__(queryset=queryset, **kwargs)
        # Listed by label, so a domain sits under its parent and siblings are in alphabetical order.
        self.choices = sorted(((d.pk, labels[d.pk]) for d in domains), key=lambda choice: choice[1])


class _Availability(ServiceForm):
    """Name, description, host tags and who may launch it: what both forms carry."""

    name = forms.CharField(max_length=ServiceOffering._meta.get_field("name").max_length)
    description = forms.CharField(max_length=255, required=False)
    host_tags = forms.CharField(
        max_length=1000,
        required=False,
        help_text="Comma-separated; only hosts carrying every one of them take its instances.",
    )
    public = forms.BooleanField(
        required=False,
        initial=True,
        label="Public: every domain may launch it",
        help_text="Otherwise only the domains chosen below, and their sub-domains.",
    )
    error_fields = {"already_exists": "name"}

    def __init__(self, principal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domains"] = DomainsField(
            principal,
            required=False,
            label="Domains that may launch it",
            widget=forms.SelectMultiple(attrs={"size": 8}),
            help_text="For an offering that is not public. Hold Ctrl (or ⌘) to choose several.",
        )

    def clean(self):
        data = super().clean()
        if not data.get("public") and not data.get("domains"):
            self.add_error("domains", "Choose the domains that may launch it, or make it public.")
        return data

    def availability(self):
        """The service's keyword arguments for name, description, tags and who may launch it."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "host_tags": data["host_tags"].split(","),
            "public": data["public"],
            "domains": list(data["domains"]) if not data["public"] else [],
        }


class OfferingCreateForm(_Availability):
    vcpus = forms.IntegerField(label="vCPUs", min_value=1, max_value=INT_MAX)
    ram_mb = forms.IntegerField(label="RAM (MB)", min_value=16, max_value=INT_MAX)
    root_disk_gb = forms.IntegerField(label="Root disk (GB)", min_value=1, max_value=INT_MAX)
    ephemeral_disk_gb = forms.IntegerField(
        label="Ephemeral disk (GB)", min_value=0, max_value=INT_MAX, initial=0, required=False
    )
    field_order = ["name", "description", "vcpus", "ram_mb", "root_disk_gb", "ephemeral_disk_gb"]

    def sizes(self):
        data = self.cleaned_data
        return {
            "vcpus": data["vcpus"],
            "ram_mb": data["ram_mb"],
            "root_disk_gb": data["root_disk_gb"],
            "ephemeral_disk_gb": data["ephemeral_disk_gb"] or 0,
        }


class OfferingUpdateForm(_Availability):
    enabled = forms.BooleanField(
        required=False, label="Enabled: new instances may be launched with it", initial=True
    )

    @classmethod
    def of(cls, principal, offering):
        return cls(
            principal,
            initial={
                "name": offering.name,
                "description": offering.description,
                "host_tags": ", ".join(offering.host_tags),
                "public": offering.public,
                "domains": list(offering.domains.all()),
                "enabled": offering.enabled,
            },
        )
