"""Portal pages of compute: the dashboard's instances and keypairs, the admin portal's instance list."""
