"""Load the machine-readable Bot API spec and validate values against it.

The spec (``api.json`` from telegram-bot-api-spec) lives outside the repo in
``../shared/botapi-spec``; ``FOOTNOTE_BOTAPI_SPEC`` overrides the path.  Only
shapes are checked here (required fields, unknown fields, JSON types, unions,
abstract types resolved by their ``type``/``status``/``source`` field); limits
that exist only in prose live in ``limits.py``.

Two decoding modes for request parameters, matching what Telegram accepts:

* form (urlencoded / multipart, what PTB sends): every value is a string;
  Integer/Float/Boolean are parsed, objects and arrays are JSON strings;
* json: values are already typed (a JSON string for an object is also accepted).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "SPEC_ENV_VAR",
    "BotApiSpec",
    "BotApiSpecNotFoundError",
    "FieldSpec",
    "MethodSpec",
    "TypeSpec",
    "UploadedFile",
    "default_spec_path",
    "load_spec",
    "require_spec",
]

SPEC_ENV_VAR = "FOOTNOTE_BOTAPI_SPEC"
_SCALARS = ("Integer", "Float", "Boolean", "String", "InputFile")
_ARRAY_PREFIX = "Array of "
# 'Type of the result, must be article' / 'always “creator”' -> the constant.
_DISCRIMINATOR_RE = re.compile(r"(?:must be|always)\s+[“\"]?([a-z_]+)[”\"]?\s*$")
_DISCRIMINATOR_FIELDS = ("type", "status", "source")
_INT_RE = re.compile(r"-?[0-9]+")


class BotApiSpecNotFoundError(FileNotFoundError):
    """The spec file is absent (e.g. ../shared is not mounted)."""


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part (InputFile) as received by the fake server."""

    name: str
    filename: str | None
    content: bytes


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: dict[str, FieldSpec]
    subtypes: tuple[str, ...]
    # (field name, constant) for concrete members of a union, e.g. ("type", "article").
    discriminator: tuple[str, str] | None

    @property
    def is_abstract(self) -> bool:
        return bool(self.subtypes)


def default_spec_path() -> Path:
    """``$FOOTNOTE_BOTAPI_SPEC`` or ``<repo>/../shared/botapi-spec/api.json``."""
    override = os.environ.get(SPEC_ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "botapi-spec" / "api.json"


def load_spec(path: Path | None = None) -> BotApiSpec:
    """Load (and cache) the spec; raises BotApiSpecNotFoundError if it is absent."""
    return _load_cached(str(path or default_spec_path()))


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> BotApiSpec:
    file = Path(path)
    if not file.is_file():
        raise BotApiSpecNotFoundError(f"Bot API spec not found at {file}: ../shared is absent")
    with file.open(encoding="utf-8") as handle:
        return BotApiSpec(json.load(handle))


def require_spec() -> BotApiSpec:
    """load_spec() for tests: skips the calling test with a clear reason if the spec is absent."""
    import pytest

    try:
        return load_spec()
    except BotApiSpecNotFoundError as exc:
        pytest.skip(str(exc))


def _fields(raw: Sequence[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    return {
        f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"]), f["description"])
        for f in raw
    }


def _discriminator(fields: Mapping[str, FieldSpec]) -> tuple[str, str] | None:
    for name in _DISCRIMINATOR_FIELDS:
        spec = fields.get(name)
        if spec is not None and spec.types == ("String",):
            match = _DISCRIMINATOR_RE.search(spec.description)
            if match:
                return name, match.group(1)
    return None


def describe(value: object) -> str:
    """JSON-ish name of a value's type, for error messages."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return f"String {value[:40]!r}"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, UploadedFile):
        return "file upload"
    return "null" if value is None else type(value).__name__


class BotApiSpec:
    """The parsed spec plus shape validation.  All validators return a list of error strings
    (empty = valid), each prefixed with the dotted path of the offending value."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = str(raw.get("version", "?"))
        self.methods: dict[str, MethodSpec] = {
            name: MethodSpec(name, _fields(m.get("fields", [])), tuple(m.get("returns", [])))
            for name, m in raw["methods"].items()
        }
        self.types: dict[str, TypeSpec] = {}
        for name, t in raw["types"].items():
            fields = _fields(t.get("fields", []))
            self.types[name] = TypeSpec(
                name, fields, tuple(t.get("subtypes", [])), _discriminator(fields)
            )
        # Telegram matches method names case-insensitively.
        self._by_lower = {name.lower(): name for name in self.methods}

    def find_method(self, name: str) -> MethodSpec | None:
        canonical = self._by_lower.get(name.lower())
        return self.methods[canonical] if canonical else None

    # -- requests -------------------------------------------------------------------------

    def decode_params(
        self, method: MethodSpec, raw: Mapping[str, Any], *, form: bool
    ) -> tuple[dict[str, Any], list[str]]:
        """Decode request parameters and check them against ``method``.

        Returns (decoded params, errors).  Multipart file parts referenced as
        ``attach://<name>`` from another parameter are accepted and kept as UploadedFile.
        """
        errors: list[str] = []
        decoded: dict[str, Any] = {}
        attached = {
            v.removeprefix("attach://")
            for v in _walk_strings(list(raw.values()))
            if v.startswith("attach://")
        }
        for name, value in raw.items():
            field = method.fields.get(name)
            if field is None:
                if isinstance(value, UploadedFile) and name in attached:
                    decoded[name] = value
                    continue
                errors.append(f"unknown parameter {name!r} (not in the Bot API spec)")
                continue
            parsed, field_errors = (
                self._decode_form(value, field.types, name)
                if form
                else self._decode_json(value, field.types, name)
            )
            errors.extend(field_errors)
            if not field_errors:
                decoded[name] = parsed
        for field in method.fields.values():
            if field.required and field.name not in raw:
                errors.append(f"parameter {field.name!r} is required")
        return decoded, errors

    def _decode_form(self, value: Any, types: Sequence[str], path: str) -> tuple[Any, list[str]]:
        if isinstance(value, UploadedFile):
            if "InputFile" in types:
                return value, []
            return value, [f"{path}: expected {' or '.join(types)}, got a file upload"]
        if not isinstance(value, str):
            return self._decode_json(value, types, path)
        best: list[str] | None = None
        # Non-string interpretations first, so "123" for "Integer or String" is an Integer.
        for type_name in sorted(types, key=lambda t: t in ("String", "InputFile")):
            if type_name == "Integer" and _INT_RE.fullmatch(value):
                return int(value), []
            if type_name == "Float" and _is_float(value):
                return float(value), []
            if type_name == "Boolean" and value.lower() in ("true", "false"):
                return value.lower() == "true", []
            if type_name in ("String", "InputFile"):
                return value, []
            if type_name not in _SCALARS:
                try:
                    parsed = json.loads(value)
                except ValueError:
                    continue
                errs = self.validate(parsed, [type_name], path)
                if not errs:
                    return parsed, []
                if best is None or len(errs) < len(best):
                    best = errs
        if best is not None:
            return value, best
        return value, [f"{path}: expected {' or '.join(types)}, got {value[:40]!r}"]

    def _decode_json(self, value: Any, types: Sequence[str], path: str) -> tuple[Any, list[str]]:
        wants_object = any(t not in _SCALARS for t in types)
        if isinstance(value, str) and wants_object and not {"String", "InputFile"} & set(types):
            try:  # Telegram also takes JSON-serialized strings inside a JSON body
                value = json.loads(value)
            except ValueError:
                return value, [f"{path}: can't parse {' or '.join(types)} JSON: {value[:40]!r}"]
        return value, self.validate(value, types, path)

    # -- values ---------------------------------------------------------------------------

    def validate(self, value: Any, types: Sequence[str], path: str) -> list[str]:
        """Check a decoded JSON value against a union of spec type strings."""
        if value is None:
            return [f"{path}: null is not allowed (omit the field instead)"]
        candidates = [t for t in types if self._kind_matches(value, t)]
        if not candidates:
            return [f"{path}: expected {' or '.join(types)}, got {describe(value)}"]
        best: list[str] | None = None
        for type_name in candidates:
            errors = self._validate_one(value, type_name, path)
            if not errors:
                return []
            if best is None or len(errors) < len(best):
                best = errors
        return best or []

    def validate_type(self, value: Any, type_name: str, path: str = "") -> list[str]:
        """Check ``value`` against one named type, e.g. validate_type(update, "Update")."""
        return self.validate(value, [type_name], path or type_name)

    def validate_result(self, method: MethodSpec, result: Any) -> list[str]:
        """Check a method's ``result`` against its documented return type(s)."""
        return self.validate(result, method.returns, "result")

    def _kind_matches(self, value: Any, type_name: str) -> bool:
        if type_name.startswith(_ARRAY_PREFIX):
            return isinstance(value, list)
        if type_name == "Integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if type_name == "Float":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if type_name == "Boolean":
            return isinstance(value, bool)
        if type_name == "String":
            return isinstance(value, str)
        if type_name == "InputFile":
            return isinstance(value, (str, UploadedFile))
        spec = self.types.get(type_name)
        if spec is None:
            return False
        if spec.is_abstract:
            return any(self._kind_matches(value, sub) for sub in spec.subtypes)
        return isinstance(value, dict)

    def _validate_one(self, value: Any, type_name: str, path: str) -> list[str]:
        if type_name.startswith(_ARRAY_PREFIX):
            item_type = type_name[len(_ARRAY_PREFIX) :]
            errors: list[str] = []
            for index, item in enumerate(value):
                errors.extend(self.validate(item, [item_type], f"{path}[{index}]"))
            return errors
        if type_name == "Float" and isinstance(value, float) and not math.isfinite(value):
            return [f"{path}: Float must be finite"]
        if type_name in _SCALARS:
            return []
        spec = self.types[type_name]
        if spec.is_abstract:
            return self._validate_abstract(value, spec, path)
        return self._validate_object(value, spec, path)

    def _validate_abstract(self, value: Any, spec: TypeSpec, path: str) -> list[str]:
        options = list(spec.subtypes)
        if isinstance(value, dict):
            tagged = [self.types[s] for s in options if s in self.types]
            keyed = [t for t in tagged if t.discriminator is not None]
            matching = [
                t.name
                for t in keyed
                if t.discriminator is not None
                and value.get(t.discriminator[0]) == t.discriminator[1]
            ]
            if matching:
                options = matching
            elif keyed and len(keyed) == len(tagged):
                field = keyed[0].discriminator[0] if keyed[0].discriminator else "type"
                allowed = sorted({t.discriminator[1] for t in keyed if t.discriminator})
                return [
                    f"{path}: {spec.name} needs {field!r} in {allowed}, got {value.get(field)!r}"
                ]
        best: list[str] | None = None
        for option in options:
            errors = self.validate(value, [option], path)
            if not errors:
                return []
            if best is None or len(errors) < len(best):
                best = errors
        return best or [f"{path}: matches none of {spec.name}'s subtypes"]

    def _validate_object(self, value: dict[str, Any], spec: TypeSpec, path: str) -> list[str]:
        errors: list[str] = []
        for key, item in value.items():
            field = spec.fields.get(key)
            if field is None:
                errors.append(f"{path}: unknown field {key!r} for {spec.name}")
                continue
            errors.extend(self.validate(item, field.types, f"{path}.{key}"))
        for field in spec.fields.values():
            if field.required and field.name not in value:
                errors.append(f"{path}: missing required field {field.name!r} of {spec.name}")
        if spec.discriminator is not None:
            key, constant = spec.discriminator
            if key in value and value[key] != constant:
                errors.append(f"{path}.{key}: must be {constant!r} for {spec.name}")
        return errors


def _is_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _walk_strings(value: Any) -> list[str]:
    """All strings inside a (possibly JSON-encoded) parameter value, for attach:// lookups."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
            if item[:1] in "[{":
                with contextlib.suppress(ValueError):
                    stack.append(json.loads(item))
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found
