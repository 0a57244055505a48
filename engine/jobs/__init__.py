"""Jobs: long work with an id, a state, progress and a cancel.

- ``manager.py`` runs them: a bounded queue, a cap on how many run at once per category, progress
  events at most every 250 ms, cancel; persisted by ``store.py`` (SQLite, WAL) so the listing
  survives a restart and a job the engine died under is marked failed ("interrupted").
- ``inline.py`` counts the one-block compression "jobs" of DispatchTask and BlockService streams, in
  memory (thousands a second: too many to persist, too short to cancel).
"""

from engine.jobs.inline import JOB_LIMIT_MAX, Job, JobTracker, Publish, compression_stats

__all__ = ["JOB_LIMIT_MAX", "Job", "JobTracker", "Publish", "compression_stats"]
