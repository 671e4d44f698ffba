"""Signing in and the user's own password."""

from django import forms

from apps.core.web.forms import ConfirmedPasswordMixin, ServiceForm, password_field


class LoginForm(ServiceForm):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = password_field("Password", autocomplete="current-password")
    error_fields = {"invalid_credentials": "password"}


class PasswordChangeForm(ConfirmedPasswordMixin, ServiceForm):
    old_password = password_field("Current password", autocomplete="current-password")
    new_password = password_field("New password")
    confirm_password = password_field("New password again")
    error_fields = {"wrong_password": "old_password", "weak_password": "new_password"}
