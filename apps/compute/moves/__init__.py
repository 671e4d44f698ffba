"""Moves of instances: resize, cold and live migration, evacuation; each one controller job over two hosts.

The user-facing operations are apps/compute/services/moves.py; here are what
they share:

- claims.py: capacity and quota while a move lasts. The instance's allocation is
  on the destination from the start; its place on the source is handed over to
  the move's own id (models.Migration), so both hosts hold it until the move is
  over (a resize: until it is confirmed or reverted), and a failed move gives it
  back to the instance, never refused, even on a source that is full meanwhile;
- destination.py: where a move goes (the scheduler's filters, unless an admin
  forces a host);
- the kinds of host work, one per move (cold.py, live.py, evacuation.py) and the
  ones that finish or undo a move (undo.py), with what each outcome does to the
  instance, its migration record and its claims.

A failed move never leaves a guest running twice: a destination that may hold a
copy must confirm it discarded it (it reports so) before the source's copy is
started again; until it does, both hosts keep their claims.
"""
