"""The audit log's filters."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from apps.audit.models import AuditEvent


class AuditFilterForm(forms.Form):
    all_optional = True  # a filter left empty filters nothing; no "(optional)" on every field
    actor = forms.CharField(max_length=150, required=False, help_text="A username, exactly.")
    action = forms.CharField(max_length=128, required=False, help_text="The start of an action name.")
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), (AuditEvent.SUCCESS, "Success"), (AuditEvent.FAILURE, "Failure")],
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data

    def apply(self, events):
        """Filter a (scoped) queryset of events; an invalid form filters nothing more."""
        if not self.is_valid():
            return events
        data = self.cleaned_data
        if data["actor"]:
            events = events.filter(actor_name=data["actor"])
        if data["action"]:
            events = events.filter(action__startswith=data["action"])
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
        if data["since"]:
            events = events.filter(timestamp__gte=_day_start(data["since"]))
        if data["until"]:
            events = events.filter(timestamp__lt=_day_start(data["until"] + timedelta(days=1)))
        return events


def _day_start(day):
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
