"""Audit: a record of every change, by whom, from where, and whether it worked."""
