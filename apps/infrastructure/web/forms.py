"""Forms of the zones and hosts pages."""

from django import forms

from apps.core.web.forms import ServiceForm

from ..models import Zone
from ..services.hosts import normalized_tags


class ZoneForm(ServiceForm):
    name = forms.CharField(max_length=Zone._meta.get_field("name").max_length)
    description = forms.CharField(max_length=255, required=False)
    enabled = forms.BooleanField(
        required=False, initial=True, label="Enabled: new instances may be placed in it"
    )
    error_fields = {"already_exists": "name"}

    @classmethod
    def of(cls, zone):
        return cls(initial={"name": zone.name, "description": zone.description, "enabled": zone.enabled})


class HostAddForm(ServiceForm):
    name = forms.CharField(
        max_length=63,
        label="Host name",
        help_text="Its DNS name in lower case, e.g. kvm-07.example.org; its agent's queue is host.<name>.",
    )
    zone = forms.ModelChoiceField(queryset=Zone.objects.none(), empty_label="Choose a zone")
    management_ip = forms.GenericIPAddressField(
        required=False,
        label="Management address",
        help_text="Left empty, the address its agent enrolls from is used.",
    )
    tags = forms.CharField(
        max_length=1000,
        required=False,
        help_text="Comma-separated; offerings that name host tags go only to hosts carrying all of them.",
    )
    domain_type = forms.ChoiceField(
        choices=[
            ("auto", "auto: kvm when the CPU offers it, else qemu"),
            ("kvm", "kvm: hardware virtualisation"),
            ("qemu", "qemu: emulation (slow; for tests)"),
        ],
        initial="auto",
        label="Hypervisor",
    )
    isolated = forms.BooleanField(required=False, label="Isolated: runs isolated images only")
    error_fields = {"already_exists": "name", "bad_host_name": "name"}

    def __init__(self, zones, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = zones

    def host_fields(self):
        data = self.cleaned_data
        return {
            "name": data["name"],
            "zone": data["zone"],
            "management_ip": data["management_ip"] or None,
            "tags": normalized_tags(data["tags"].split(",")),
            "domain_type": data["domain_type"],
            "isolated": data["isolated"],
        }
