"""Django forms of the portal: they parse and check shapes; the services decide."""
