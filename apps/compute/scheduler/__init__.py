"""The scheduler: choose a host for an instance and claim its capacity, inside the caller's transaction.

Filters remove hosts, weighers order the rest; both are named in settings
(CLOUDMGR_SCHEDULER_FILTERS, CLOUDMGR_SCHEDULER_WEIGHERS) by registry name or
dotted path. A filter says what it removes as an SQL condition, in Python, or
both; every SQL condition and every weigher becomes one query, and Python
checks run only on the hosts that query returns, best first. See placement.py.
"""
