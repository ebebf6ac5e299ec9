"""Building blocks for request and response models.

Request models forbid unknown fields and coerce nothing (a string is not a number), so a client's
mistake is a 400 naming the field rather than a surprise.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from chalicelib.domain.labels import LABEL_IDS, MAX_LABELS
from chalicelib.domain.urls import MAX_URL_LENGTH, image_url_problem


class Deferred:
    """A response model whose class is made on first use, standing in for it until then.

    For the `RootModel` unions: importing pydantic's `RootModel` builds that class on the spot (its
    core schema, and pydantic's scan of installed packages for plugins), about 20 ms of a cold start
    that no other model pays, since every other one is `defer_build`. Attributes (`model_validate`,
    a classmethod) pass through to the class; `chalicelib.http.resolve_model` gives the class itself.
    """

    def __init__(self, make: Callable[[], type[BaseModel]]):
        self._make = make

    @functools.cached_property
    def model(self) -> type[BaseModel]:
        return self._make()

    def resolve(self) -> type[BaseModel]:
        return self.model

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def _integer_field(annotation) -> bool:
    """Whether a field takes whole numbers and not fractions (`int`, `Annotated[int, ...] | None`)."""
    if annotation is int:
        return True
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) is Annotated:
        args = args[:1]
    return bool(args) and float not in args and any(_integer_field(arg) for arg in args)


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _whole_floats_are_integers(cls, value, info):
        """JSON has one number type: `2.0` is the integer 2 (JSON Schema says so too), while `2.5`,
        `"2"` and `true` stay refused by strict validation."""
        if isinstance(value, float) and value.is_integer() and info.field_name is not None:
            if _integer_field(cls.model_fields[info.field_name].annotation):
                return int(value)
        return value


def _no_nulls(schema: dict, model: type) -> None:
    """A PATCH body's fields are optional, never null: the document says so (no `null` branch, no
    default) and at least one property must be given."""
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)
        branches = [branch for branch in prop.get("anyOf", []) if branch.get("type") != "null"]
        if "anyOf" in prop:
            del prop["anyOf"]
            if len(branches) == 1:
                prop.update(branches[0])
            else:
                prop["anyOf"] = branches


class PatchModel(RequestModel):
    """A PATCH body: every field optional, none null, at least one given (an empty edit is a 400
    rather than a write that changes nothing)."""

    model_config = ConfigDict(json_schema_extra=_no_nulls)

    @model_validator(mode="after")
    def _changes_something(self):
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{nulls[0]}: may not be null (leave it out to keep it)")
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class ResponseModel(BaseModel):
    # Every field is in every response (None included), so the document marks each one required.
    model_config = ConfigDict(defer_build=True, json_schema_serialization_defaults_required=True)


def _known_label(value: str) -> str:
    if value not in LABEL_IDS:
        raise ValueError(f"unknown label {value!r}; see GET /labels")
    return value


def _unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat an entry")
    return values


def _https(value: str) -> str:
    """An https:// URL, or an image_url of this stage's uploads (http:// on the local stack)."""
    from chalicelib.config import get_settings

    problem = image_url_problem(value, get_settings().media_base_url)
    if problem is not None:
        raise ValueError(problem)
    return value


# What the validators below enforce, said in JSON Schema for the OpenAPI document. The URL pattern
# is a subset of what `https_url_problem` takes (DNS names of 2 to 4 labels, at most 253 characters,
# ports 1-9999):
# every URL it describes is accepted.
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,59}[A-Za-z0-9])?"
HTTPS_URL_PATTERN = (
    rf"^https://(?:{_DNS_LABEL}\.){{1,3}}{_TOP_LABEL}(?::[1-9][0-9]{{0,3}})?"
    r"(?:[/?#](?:[A-Za-z0-9\-._~!$&()*+,;=:@/?#]|%[0-9A-Fa-f]{2}){0,256})?$"
)
#: Holds a character other than white space (what `not_blank` and `strip_whitespace` refuse).
NOT_BLANK_PATTERN = r"\S"

Label = Annotated[str, AfterValidator(_known_label), WithJsonSchema({"type": "string", "enum": list(LABEL_IDS)})]
Labels = Annotated[list[Label], Field(max_length=MAX_LABELS, json_schema_extra={"uniqueItems": True}),
                   AfterValidator(_unique)]
HttpsUrl = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH), AfterValidator(_https),
                     WithJsonSchema({"type": "string", "maxLength": MAX_URL_LENGTH, "pattern": HTTPS_URL_PATTERN})]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
#: Field metadata for text that must hold a visible character (`not_blank`, `strip_whitespace`).
NOT_BLANK = Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN})
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
PostText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ErrorOut(ResponseModel):
    Code: str
    Message: str


@functools.cache
def page_of(item_model: type[BaseModel]) -> type[BaseModel]:
    """The `{"items": [...], "next_cursor": ...}` envelope of a list route."""
    return create_model(
        f"{item_model.__name__}Page",
        __base__=ResponseModel,
        items=(list[item_model], ...),
        next_cursor=(str | None, None),
    )
