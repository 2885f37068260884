"""How payloads are declared (pydantic v2) and checked, and their JSON Schemas.

Each shape the API takes (articles, sources, tag feeds) is one pydantic model, declared
once beside the service that uses it. That declaration validates every payload (API,
CLI, config files, imports) and generates the OpenAPI document's schemas, so what the
document promises and what the service accepts cannot drift apart.

Validators raise ValueError with the message a client reads ("is required", "'#' is not
a hashtag"); `check()` turns pydantic's errors into feeds.errors.ValidationError, one
message per field path (`title`, `image.url`, `hashtags[1]`), the API's 422 contract.
Models never leave the service: each input module turns its model into the frozen
dataclasses of feeds.models.

Bounds that are settings (`max_hashtags_per_article`, `feed_limit_max`) are read from
the validation context at check time, and appear in the schemas as `x-setting-*` keys
that `resolve_settings()` replaces with the running values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

import pydantic
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic.json_schema import models_json_schema
from pydantic_core import core_schema

from feeds.errors import ValidationError
from feeds.service.nulcheck import fields_with_nul
from feeds.xmlchars import xml_safe

# The integer columns are 32-bit on PostgreSQL; a larger value must be a 422, not a 500.
MAX_INT = 2**31 - 1
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG = re.compile(SLUG_PATTERN)
# Settings a payload's bounds are taken from, passed to validators in the context.
BOUND_SETTINGS = ("max_hashtags_per_article", "feed_limit_max")
# pydantic's own error types, said the way every other message of the API is.
MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}

P = TypeVar("P", bound="Payload")


class Problem(ValueError):
    """A validator's refusal; `field` files it under another name than the validator's
    own (a model-wide rule is reported as `rule`)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Payload(BaseModel):
    """Base of every input model: unknown fields refused, no type coercion ("1" is not
    1, 1 is not true), immutable once checked."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    # Fields the API shows but a client may not send: refused as read-only, not unknown.
    READ_ONLY: ClassVar[tuple[str, ...]] = ()
    # What a body that is not an object is told.
    NOT_AN_OBJECT: ClassVar[str] = "must be an object"
    # Whether any NUL in the payload is refused (PostgreSQL cannot store one); article
    # text drops such characters instead, like every character XML cannot carry.
    REFUSE_NUL: ClassVar[bool] = True

    @classmethod
    def unknown_field(cls, name: str) -> str:
        """What a field the model does not declare is told."""
        return "unknown field"

    @classmethod
    def more_problems(cls, data: Any, found: dict[str, str]) -> dict[str, str]:
        """Problems to report beside *found* when validation failed: pydantic stops
        before a model-wide check once a field is wrong."""
        return {}


class Answer(BaseModel):
    """Base of every answer model: read from a frozen dataclass's attributes of the same
    names (or a mapping), shown with model_dump(mode="json"); documented under its name
    less `Answer`, every field it writes required."""

    model_config = ConfigDict(
        from_attributes=True, frozen=True, json_schema_serialization_defaults_required=True
    )
    # Whether fields the value did not give are left out of the JSON (an answer whose
    # optional fields are absent rather than null).
    OMIT_UNSET: ClassVar[bool] = False

    @classmethod
    def shown(cls, value: Any, **context: Any) -> dict[str, Any]:
        """*value* as JSON-ready values; *context* reaches the fields' validators."""
        found: dict[str, Any] = cls.model_validate(value, context=context).model_dump(
            mode="json", by_alias=True, exclude_unset=cls.OMIT_UNSET
        )
        return found

    @classmethod
    def json_bytes(cls, value: Any, **context: Any) -> bytes:
        """*value* written as JSON by pydantic-core in one call: a list answer's items
        are read and written without a Python step per item, as cheap as a hand-made
        dict given to json.dumps (bench/api.py)."""
        checked = cls.model_validate(value, context=context)
        serializer = cls.__pydantic_serializer__
        return serializer.to_json(checked, by_alias=True, exclude_unset=cls.OMIT_UNSET)


class ErrorAnswer(Answer):
    """What every refused API request is told (feeds.errors.ValidationError's `fields`
    for a 422)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)
    OMIT_UNSET = True

    error: str
    status: int
    fields: dict[str, str] = Field(
        default_factory=dict, description="Each bad field's path and what is wrong with it"
    )


def _iso(value: datetime) -> str:
    return value.isoformat()


# A UTC instant as the API writes it: `2026-01-12T08:23:00+00:00`.
Instant = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
MaybeInstant = Annotated[
    datetime | None,
    PlainSerializer(lambda value: None if value is None else value.isoformat()),
    WithJsonSchema({"type": ["string", "null"], "format": "date-time"}),
]


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def problems(model: type[Payload], exc: pydantic.ValidationError) -> dict[str, str]:
    """{field path: message} for each of pydantic's errors, the first per field."""
    found: dict[str, str] = {}
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        name = _path(error["loc"]) or "body"
        if isinstance(cause, Problem) and cause.field:
            name = cause.field
        if error["type"] == "value_error" and cause is not None:
            message = str(cause)
        elif not error["loc"] and error["type"] in ("model_type", "model_attributes_type"):
            message = model.NOT_AN_OBJECT
        elif error["type"] == "extra_forbidden" and error["loc"][-1] in model.READ_ONLY:
            message = "is read-only"
        elif error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
            message = model.unknown_field(str(error["loc"][0]))
        else:
            message = MESSAGES.get(error["type"], error["msg"])
        found.setdefault(name, message)
    return found


def check(model: type[P], data: Any, **context: Any) -> P:
    """*data* as a *model*, or ValidationError naming every bad field at once."""
    errors = fields_with_nul(data) if model.REFUSE_NUL and isinstance(data, dict) else {}
    try:
        checked = model.model_validate(data, context=context)
    except pydantic.ValidationError as exc:
        for name, message in problems(model, exc).items():
            errors.setdefault(name, message)
        for name, message in model.more_problems(data, errors).items():
            errors.setdefault(name, message)
        raise ValidationError(errors) from None
    if errors:
        raise ValidationError(errors)
    return checked


def bound(info: ValidationInfo, setting: str) -> int:
    """The value of a bound setting for this check (see BOUND_SETTINGS)."""
    context = info.context or {}
    value = context.get(setting)
    if not isinstance(value, int):
        raise TypeError(f"checking this payload needs {setting} in the context")
    return value


def bounds(settings: Any) -> dict[str, int]:
    """The validation context of bound settings, read from a Settings object."""
    return {name: int(getattr(settings, name)) for name in BOUND_SETTINGS}


@dataclass(frozen=True)
class Whole:
    """`Annotated[int, Whole(low, high)]`: an integer from *low* to *high*, booleans
    refused, the bounds in the schema; *message* may name `{low}` and `{high}`. A *high*
    that is a string names a setting of BOUND_SETTINGS, read at check time."""

    low: int
    high: int | str
    message: str = "must be a whole number from {low} to {high}"

    def check(self, value: Any, info: ValidationInfo) -> int:
        high = bound(info, self.high) if isinstance(self.high, str) else self.high
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= high:
            raise Problem(self.message.format(low=self.low, high=high))
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        high = None if isinstance(self.high, str) else self.high
        inner = core_schema.int_schema(ge=self.low, le=high)
        return core_schema.with_info_before_validator_function(self.check, inner)

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        found = handler(schema)
        if isinstance(self.high, str):
            found["x-setting-maximum"] = self.high
        return found


@dataclass(frozen=True)
class Text:
    """`Annotated[str, Text(max_len)]`: characters XML cannot carry dropped (lone
    surrogates, which JSON allows, can be stored by neither database), trimmed, at most
    *max_len* long (when given); *required* refuses null and empty."""

    max_len: int | None = None
    required: bool = False
    strip: bool = True

    def check(self, value: Any) -> str:
        if value is None and self.required:
            raise Problem("is required")
        if not isinstance(value, str):
            raise Problem("must be a string")
        value = xml_safe(value)
        if self.strip:
            value = value.strip()
        if self.required and not value:
            raise Problem("must not be empty")
        if self.max_len is not None and len(value) > self.max_len:
            raise Problem(f"is longer than {self.max_len} characters")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        inner = core_schema.str_schema(
            min_length=1 if self.required else None, max_length=self.max_len
        )
        return core_schema.no_info_before_validator_function(self.check, inner)


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Problem("must be true or false")
    return value


Flag = Annotated[bool, BeforeValidator(flag)]


def resolve_settings(schema: Any, values: Mapping[str, int]) -> Any:
    """*schema* with each `x-setting-<keyword>: <setting>` replaced by `<keyword>: value`."""
    if isinstance(schema, list):
        return [resolve_settings(item, values) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-setting-") and isinstance(value, str):
            out[key.removeprefix("x-setting-")] = values[value]
        else:
            out[key] = resolve_settings(value, values)
    return out


def _untitled(schema: Any) -> Any:
    """*schema* without the `title` pydantic gives every model and field (the names are
    the document's keys already)."""
    if isinstance(schema, list):
        return [_untitled(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):
            out[key] = {name: _untitled(sub) for name, sub in value.items()}
        elif key == "default":
            if value is not None or "$ref" not in schema:  # filled in when written
                out[key] = value
        else:
            out[key] = _untitled(value)
    return out


def _name(model: str) -> str:
    return model.removesuffix("Answer")


def schemas(*models: type[Payload] | type[Answer]) -> dict[str, Any]:
    """JSON Schemas of *models* and the models they hold, by class name (an answer's
    without `Answer`), their references pointing into an OpenAPI document's components:
    what a payload may be, what an answer is."""
    _, top = models_json_schema(
        [
            (model, "serialization" if issubclass(model, Answer) else "validation")
            for model in models
        ],
        ref_template="#/components/schemas/{model}",
    )
    text = re.sub(
        r'"#/components/schemas/(\w+)"',
        lambda m: f'"#/components/schemas/{_name(m.group(1))}"',
        json.dumps(top.get("$defs", {})),
    )
    defs = {_name(name): schema for name, schema in json.loads(text).items()}
    models_named = [_name(model.__name__) for model in models]
    # Only what the models reference: types held behind a validator (InstanceOf) leave
    # definitions of their own that no schema points to.
    wanted, todo = set(), models_named
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(re.findall(r"#/components/schemas/(\w+)", json.dumps(defs[name])))
    return {name: _untitled(schema) for name, schema in defs.items() if name in wanted}


def partial(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """*schema* with every field optional: what a PATCH may send."""
    out = {k: v for k, v in schema.items() if k not in ("required", "anyOf")}
    out["description"] = description
    return out
