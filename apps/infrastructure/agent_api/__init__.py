"""The controller's endpoint for agents (agent/protocol.py): enrollment, heartbeats, task reports, images.

Every request but enrollment is signed with the host's own key and concerns
only that host: its heartbeat, reports about jobs sent to its queue, images its
instances use. What a report or a heartbeat means for other apps' objects is up
to the handlers those apps register in `hooks`.
"""
