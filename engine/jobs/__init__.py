"""Jobs: every job of the engine, with an id, a state, progress, and one lock table.

- ``manager.py`` runs them (JobManager): a bounded queue, a cap on how many run at once per
  category, progress events at most every 250 ms, cancel; persisted by ``store.py`` (SQLite, WAL)
  so the listing survives a restart and a job the engine died under is marked failed
  ("interrupted").
- ``inline.py``: the manager's in-memory jobs, the one-block compression jobs of DispatchTask and
  BlockService streams (thousands a second: too many to persist, too short to cancel).
- ``locks.py``: the manager's lock table, keyed ``pool:<name>`` or ``dest:<path>``, for jobs and
  short operations alike.
"""

from engine.jobs.model import Publish

__all__ = ["Publish"]
