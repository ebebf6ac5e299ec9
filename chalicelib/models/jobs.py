"""Resumable background jobs: one item per job, whose own stream record drives its next step."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, table_meta


class Job(BaseModel):
    """A job's progress: the step it is at, where it got to (`phase`, `cursor`) and whether it ended.

    `generation` orders restarts of the same job: a newer start (a later tier change) overwrites
    the item, and a step of an older generation that was still running cannot record itself.
    """

    Meta = table_meta("Jobs")
    job_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # which step function runs it (see chalicelib.streams.jobs)
    subject = UnicodeAttribute()  # the user or merchant it works on
    generation = UnicodeAttribute(default="0")  # compared as a string: zero-padded numbers
    phase = UnicodeAttribute(null=True)
    cursor = UnicodeAttribute(null=True)  # JSON: where the phase's next step starts
    steps = NumberAttribute(default=0)
    processed = NumberAttribute(default=0)  # items handled so far (followers listed, products indexed)
    done = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    ref = UnicodeAttribute(null=True)  # what the job's owner names it by (an export's id)
    resumed_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # DynamoDB TTL: a finished job stays visible for a week
