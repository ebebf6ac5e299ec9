"""Reports and moderation: request and response models."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from chalicelib.domain.moderation import REASON_CHARACTERS
from chalicelib.schemas.base import NOT_BLANK, Id, RequestModel, ResponseModel
from chalicelib.schemas.posts import not_blank

if TYPE_CHECKING:
    from chalicelib.models.moderation import ModerationAction, Report, ReportTarget

TargetType = Literal["post", "comment", "question", "answer", "review", "user"]
Action = Literal["remove", "restore", "suspend", "unsuspend"]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=REASON_CHARACTERS), AfterValidator(not_blank),
                   NOT_BLANK]


class ReportIn(RequestModel):
    target_type: TargetType
    target_id: Id
    reason: Reason


class ReportOut(ResponseModel):
    target_type: TargetType
    target_id: str
    reason: str
    created_at: str

    @classmethod
    def from_item(cls, report: Report) -> ReportOut:
        return cls(target_type=report.target_type, target_id=report.target_id,  # type: ignore[arg-type]
                   reason=report.reason, created_at=report.created_at)


class ReportedTargetOut(ResponseModel):
    target_type: TargetType
    target_id: str
    report_count: int = Field(description="Open reports: those since the target's last moderation action")
    last_reason: str | None = None
    last_reported_at: str | None = None

    @classmethod
    def from_item(cls, target: ReportTarget) -> ReportedTargetOut:
        return cls(target_type=target.target_type, target_id=target.target_id,  # type: ignore[arg-type]
                   report_count=int(target.report_count or 0), last_reason=target.last_reason,
                   last_reported_at=target.last_reported_at)


class _Documented(BaseModel):
    """A body shape for the OpenAPI document only (`ModerationIn` parses)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class ContentModeration(_Documented):
    """Remove or restore a post, comment, question, answer or review."""

    target_type: Literal["post", "comment", "question", "answer", "review"]
    target_id: Id
    action: Literal["remove", "restore"]
    reason: Reason


class UserModeration(_Documented):
    """Suspend or unsuspend a user (not oneself)."""

    target_type: Literal["user"]
    target_id: Id
    action: Literal["suspend", "unsuspend"]
    reason: Reason


@functools.cache
def _moderation_body() -> TypeAdapter:
    """The documented union, built when the OpenAPI document is (not at import: cold start)."""
    return TypeAdapter(Annotated[ContentModeration | UserModeration, Field(discriminator="target_type")])


class ModerationIn(RequestModel):
    """`remove`/`restore` apply to content (post, comment, question, answer, review), `suspend`/`unsuspend`
    to a user. Parsed flat, so a refusal names the field (`action: ...`); documented as the union it
    is (`ContentModeration | UserModeration` by `target_type`), so schema-valid bodies are valid."""

    target_type: TargetType
    target_id: Id
    action: Action
    reason: Reason

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        return handler(_moderation_body().core_schema)


class ModerationOut(ResponseModel):
    """One entry of the audit log: who (`admin_id`) did what to which target, when and why."""

    action_id: str
    admin_id: str
    target_type: TargetType
    target_id: str
    action: Action
    reason: str
    affected_user_id: str | None = Field(None, description="The author of the content, or the user; notified")
    created_at: str

    @classmethod
    def from_item(cls, entry: ModerationAction) -> ModerationOut:
        return cls(action_id=entry.action_id, admin_id=entry.admin_id,
                   target_type=entry.target_type, target_id=entry.target_id,  # type: ignore[arg-type]
                   action=entry.action, reason=entry.reason,  # type: ignore[arg-type]
                   affected_user_id=entry.affected_user_id, created_at=entry.created_at)
