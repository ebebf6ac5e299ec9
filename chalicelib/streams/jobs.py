"""Stream handler of resumable jobs: each recorded step of a Job item runs the next one."""

from chalice import Blueprint

from chalicelib.services import audience, good_finds, jobs
from chalicelib.streams.events import Change, dynamodb_stream

blueprint = Blueprint(__name__)

#: The step function of each kind of job.
JOB_STEPS: dict[str, jobs.StepFunction] = {
    audience.REBUILD_JOB: audience.run_rebuild_step,
    good_finds.REINDEX_JOB: good_finds.run_reindex_step,
}


def on_job_change(change: Change) -> None:
    jobs.on_job_change(change, JOB_STEPS)


continue_jobs = dynamodb_stream(blueprint, "Jobs", on_job_change, name="continue_jobs")
