"""Stream handler of resumable jobs: each recorded step of a Job item runs the next one."""

from chalice import Blueprint

from chalicelib.services import job_steps
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

continue_jobs = dynamodb_stream(blueprint, "Jobs", (job_steps.run_next_job_step,), name="continue_jobs")
