"""Reports, the queue of reported targets, and the moderation audit log."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import BaseModel, table_meta


class ReportsByReporterIndex(GlobalSecondaryIndex):
    """A user's own reports (their export and erasure)."""

    class Meta:
        index_name = "by_reporter"
        projection = AllProjection()

    reporter_id = UnicodeAttribute(hash_key=True)
    report_key = UnicodeAttribute(range_key=True)


class Report(BaseModel):
    """One user's report of one target, under `domain.moderation.report_key` ("<type>#<id>#<shard of the
    reporter>"): a viral target's reports spread over 16 partitions, and the reporter's own report is
    one key a conditional put names (once per user and target)."""

    Meta = table_meta("Reports")
    report_key = UnicodeAttribute(hash_key=True)
    reporter_id = UnicodeAttribute(range_key=True)
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    created_at = UnicodeAttribute()
    by_reporter = ReportsByReporterIndex()


class ReportQueueIndex(GlobalSecondaryIndex):
    """Sparse: only targets with open reports carry `queue`; most reported first."""

    class Meta:
        index_name = "by_count"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    report_count = NumberAttribute(range_key=True)


class ReportTarget(BaseModel):
    """A reported target's open report count, summed per Reports stream batch (one update per target
    per batch, exactly once). A moderation action on the target closes its reports: `queue` goes (it
    leaves the index) and the count starts again from 0."""

    Meta = table_meta("ReportTargets")
    target_key = UnicodeAttribute(hash_key=True)  # "<type>#<id>"
    target_type = UnicodeAttribute(null=True)
    target_id = UnicodeAttribute(null=True)
    queue = UnicodeAttribute(null=True)  # "open" while it has open reports
    report_count = NumberAttribute(null=True)
    last_reason = UnicodeAttribute(null=True)
    last_reported_at = UnicodeAttribute(null=True)
    resolved_at = UnicodeAttribute(null=True)
    resolution = UnicodeAttribute(null=True)  # the action that closed the last round
    by_count = ReportQueueIndex()


class ActionsByAffectedIndex(GlobalSecondaryIndex):
    """Sparse, keys only: the actions that affected one user (their export; the log stays on erasure)."""

    class Meta:
        index_name = "by_affected"
        projection = KeysOnlyProjection()

    affected_user_id = UnicodeAttribute(hash_key=True)
    action_id = UnicodeAttribute(range_key=True)


class ModerationAction(BaseModel):
    """One admin action, in the audit log's one partition, newest first by its ULID."""

    Meta = table_meta("ModerationLog")
    log_key = UnicodeAttribute(hash_key=True)  # "all"
    action_id = UnicodeAttribute(range_key=True)
    admin_id = UnicodeAttribute()
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute()
    action = UnicodeAttribute()
    reason = UnicodeAttribute()
    affected_user_id = UnicodeAttribute(null=True)  # notified (`moderation`)
    created_at = UnicodeAttribute()
    by_affected = ActionsByAffectedIndex()
