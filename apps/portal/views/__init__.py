"""Portal and dashboard views: parse with a form, call a service, render."""
