"""A change to one item of a table, as the stream reports it: the value every stream effect takes.

Plain Python (no boto3, no PynamoDB, no powertools): `streams/` turns a stream record into a
`Change`, and each effect (a named use case in `services/`) decides from it what to do. Tests build
changes directly with `inserted`, `modified` and `removed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

INSERT, MODIFY, REMOVE = "INSERT", "MODIFY", "REMOVE"

#: An item (or its key) as plain Python: DynamoDB's types already turned into str, int, float, list...
Image = dict[str, Any]


@dataclass(frozen=True)
class Change:
    table: str
    kind: str  # INSERT | MODIFY | REMOVE
    keys: Image
    old: Image | None
    new: Image | None
    sequence_number: str
    created_at: datetime = field(default_factory=lambda: datetime.fromtimestamp(0, tz=UTC))

    @property
    def is_noop(self) -> bool:
        """Moto reports a MODIFY even for a write that changed nothing; AWS does not."""
        return self.kind == MODIFY and self.old == self.new

    @property
    def item(self) -> Image:
        """The item as it is now, or as it was just before it was removed."""
        return (self.new if self.kind != REMOVE else self.old) or {}

    @property
    def count_delta(self) -> int:
        """What the record does to a count of such items: +1 when one appears, -1 when one goes, else 0."""
        return {INSERT: 1, REMOVE: -1}.get(self.kind, 0)

    @property
    def shown_delta(self) -> int:
        """What the record does to a count of such items that readers see: stored and not removed by a
        moderator (`removed_at`). An insert +1, a delete -1, a removal -1 and a restore +1; a removed
        item's later delete moves nothing."""
        return _shown(self.new) - _shown(self.old)

    def changed(self, *fields: str) -> bool:
        old, new = self.old or {}, self.new or {}
        return any(old.get(name) != new.get(name) for name in fields)

    def effect_id(self, effect: str) -> str:
        """A key naming one effect of this record: the same on every redelivery."""
        return f"{effect}:{self.table}:{self.sequence_number}"

    @property
    def created_ms(self) -> int:
        return int(self.created_at.timestamp() * 1000)


#: The attribute an erasure (DELETE /me) sets on a vote or mark just before deleting it.
ERASED = "erased_at"


def is_erasure(change: Change) -> bool:
    """The record is an erasure's marking or deletion of the row: counts and tallies follow it, but
    points and expert scores others earned from the row stand (SPEC: Activity sharing and privacy)."""
    return bool((change.new or {}).get(ERASED) or ((change.old or {}).get(ERASED) and change.kind == REMOVE))


#: One named effect of a table's changes (a use case); it must be idempotent on its own, because a
#: failure in any effect of a record redelivers the record to all of them.
Effect = Callable[[Change], object]

#: What a batch effect could not do: the sequence number of each record it failed, with why. Those
#: records are reported in `batchItemFailures` and delivered again (to every effect of the table).
BatchFailures = dict[str, BaseException]

#: One named effect of a whole batch of a table's changes (in stream order, no-ops left out), for
#: work that is cheaper summed than done record by record: one counter update per key per batch.
#: Marked with `per_batch`; it must be exactly once per record under any split and replay of batches.
BatchEffect = Callable[[Sequence[Change]], BatchFailures]


def per_batch(effect: BatchEffect) -> BatchEffect:
    """Mark `effect` as a batch effect: the dispatch gives it the batch's changes, not one change."""
    effect.per_batch = True  # type: ignore[attr-defined]
    return effect


def is_batch_effect(effect: object) -> bool:
    return bool(getattr(effect, "per_batch", False))


def inserted(table: str, new: Image, *, sequence_number: str = "1", keys: Image | None = None,
             created_at: datetime | None = None) -> Change:
    return Change(table, INSERT, keys or {}, None, new, sequence_number,
                  created_at or datetime.fromtimestamp(0, tz=UTC))


def modified(table: str, old: Image, new: Image, *, sequence_number: str = "1", keys: Image | None = None,
             created_at: datetime | None = None) -> Change:
    return Change(table, MODIFY, keys or {}, old, new, sequence_number,
                  created_at or datetime.fromtimestamp(0, tz=UTC))


def removed(table: str, old: Image, *, sequence_number: str = "1", keys: Image | None = None,
            created_at: datetime | None = None) -> Change:
    return Change(table, REMOVE, keys or {}, old, None, sequence_number,
                  created_at or datetime.fromtimestamp(0, tz=UTC))


def _shown(image: Image | None) -> int:
    return 1 if image and not image.get("removed_at") else 0
