"""LDAP directory users: login through django-auth-ldap, group-to-role mapping, periodic sync."""
