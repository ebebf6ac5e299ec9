"""Resumable jobs for work too large for one stream invocation (the FanoutJob pattern, shared).

A job is one `Job` item. Starting it writes the item; its INSERT on the Jobs stream runs step 0.
A step reads the job afresh (consistently), does one bounded piece of work from the job's `phase`
and `cursor`, then records the next position with `steps + 1`, conditional on the step number
and generation it started from. That MODIFY runs the next step; the last step marks the job done.

- A crash leaves the job at the last recorded step: the record is redelivered (or an operator
  calls `resume`) and that one step is redone, so every step's work must be idempotent.
- A replayed record names a step already recorded and does nothing: no step runs twice to the
  job's count.
- A newer start of the same job (a higher `generation`) overwrites the item from step 0; a step
  of the older generation still running cannot record itself, and its records do nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from chalicelib.domain.ids import epoch_seconds, now_iso
from chalicelib.models.base import get_or_none, save_if, update_if
from chalicelib.models.jobs import Job

JOB_TTL_SECONDS = 7 * 24 * 3600  # a finished job stays visible for a week


@dataclass(frozen=True)
class StepResult:
    """What one step did, and where the job goes next (`done`: nowhere)."""

    processed: int
    phase: str | None = None
    cursor: dict | None = None
    done: bool = False


StepFunction = Callable[[Job], StepResult]


def generation_of(number: int | str) -> str:
    """A generation as a zero-padded string: DynamoDB compares strings, and stream sequence
    numbers (up to 40 digits) outgrow its numbers' 38 digits of precision."""
    return str(int(number)).zfill(40)


def start(job_id: str, kind: str, subject: str, *, phase: str, generation: str = "0",
          supersede: bool = False) -> bool:
    """Write a job at step 0; False if it was not (re)started.

    Without `supersede`, a job that exists and is not done is left to run (a second start is a
    no-op) and a finished one is started afresh. With `supersede`, the job restarts whenever
    `generation` is newer than the stored one, running or not; an older or equal one changes nothing.
    """
    job = Job(job_id, kind=kind, subject=subject, generation=generation, phase=phase, cursor=None,
              steps=0, processed=0, done=False, created_at=now_iso())
    if supersede:
        condition = Job.job_id.does_not_exist() | (Job.generation < generation)
    else:
        condition = Job.job_id.does_not_exist() | (Job.done == True)  # noqa: E712
    return save_if(job, condition)


def run_step(job_id: str, expected_step: int, expected_generation: str,
             steps: Mapping[str, StepFunction]) -> bool:
    """Run the job's step `expected_step` if it is still due; False if not (replay, superseded, done)."""
    job = get_or_none(Job, job_id, consistent_read=True)
    if job is None:
        return False
    if job.done or int(job.steps) != expected_step or job.generation != expected_generation:
        return False
    result = steps[job.kind](job)
    actions = [
        Job.steps.add(1),
        Job.processed.add(result.processed),
        Job.done.set(result.done),
        Job.phase.set(result.phase) if result.phase else Job.phase.remove(),
        Job.cursor.set(json.dumps(result.cursor, sort_keys=True)) if result.cursor else Job.cursor.remove(),
    ]
    if result.done:
        actions += [Job.finished_at.set(now_iso()), Job.expires_at.set(epoch_seconds() + JOB_TTL_SECONDS)]
    condition = ((Job.steps == expected_step) & (Job.done == False)  # noqa: E712
                 & (Job.generation == expected_generation))
    return update_if(job, actions, condition)


def cursor_of(job: Job) -> dict | None:
    return json.loads(job.cursor) if job.cursor else None


def resume(job_id: str) -> bool:
    """For an operator: touch a stalled job (its record was set aside) so its stream carries it on."""
    return update_if(Job(job_id), actions=[Job.resumed_at.set(now_iso())],
                     condition=Job.job_id.exists() & (Job.done == False))  # noqa: E712


def status(job_id: str) -> Job | None:
    return get_or_none(Job, job_id, consistent_read=True)


def on_job_change(change, steps: Mapping[str, StepFunction]) -> None:
    """Jobs stream: every recorded step (or a start, or an operator's resume) runs the next one."""
    job = change.new
    if change.kind == "REMOVE" or not job or job.get("done"):
        return
    run_step(job["job_id"], int(job.get("steps") or 0), str(job.get("generation") or "0"), steps)
