"""Password authentication against the local user table; refuses disabled users."""

from django.contrib.auth.backends import BaseBackend

from .models import User


class CloudmgrBackend(BaseBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = User.objects.select_related("domain").filter(username=username).first()
        if user is None:
            # Spend the same time as a real check, so timing does not reveal usernames.
            User().set_password(password)
            return None
        if user.source != "local" or not user.check_password(password) or not user.is_active:
            return None
        return user

    def get_user(self, user_id):
        return User.objects.select_related("domain").filter(pk=user_id, is_active=True).first()
