"""Which step function runs each kind of resumable job (`services.jobs`), and the Jobs-stream effect.

Kept apart from `services.jobs` because the features whose jobs it runs (audience, Good Finds)
themselves start jobs through `services.jobs`.
"""

from __future__ import annotations

from chalicelib.domain.changes import Change
from chalicelib.services import activity, audience, erasure, exports, good_finds, jobs, live_effects, post_cleanup
from chalicelib.services.live import NOTIFY_JOB

#: The step function of each kind of job.
JOB_STEPS: dict[str, jobs.StepFunction] = {
    audience.REBUILD_JOB: audience.run_rebuild_step,
    good_finds.REINDEX_JOB: good_finds.run_reindex_step,
    post_cleanup.CLEANUP_JOB: post_cleanup.run_cleanup_step,
    activity.WITHDRAW_JOB: activity.run_withdraw_step,
    exports.EXPORT_JOB: exports.run_export_step,
    erasure.ERASE_JOB: erasure.run_erase_step,
    NOTIFY_JOB: live_effects.run_notify_step,
}


def run_next_job_step(change: Change) -> None:
    """A job's recorded step (or its start, or an operator's resume) runs the next one."""
    jobs.on_job_change(change, JOB_STEPS)
