"""JSON Schema validation with messages that name the field and the line."""

from __future__ import annotations

import json
from functools import cache

import jsonschema_rs

from bandwidth.paths import SCHEMA_DIR


@cache
def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@cache
def validator(name: str):
    return jsonschema_rs.validator_for(load_schema(name), validate_formats=True)


def dotted(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def short(value) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_NAMES = {dict: "a mapping", list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number", type(None): "empty"}


def _schema_node(schema: dict, schema_path) -> dict:
    """The subschema holding the failing keyword, following local $refs."""
    node = schema
    for part in list(schema_path)[:-1]:
        node = node[part] if not isinstance(node, list) else node[int(part)]
        while isinstance(node, dict) and "$ref" in node and part != "$ref":
            ref = node["$ref"]
            if not ref.startswith("#/"):
                break
            target = schema
            for piece in ref[2:].split("/"):
                target = target[piece]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node if isinstance(node, dict) else {}


def validate(name: str, instance, locate) -> list[tuple[int, str]]:
    """Validate `instance`; return (line, message) pairs. `locate(path)` gives a path's line."""
    schema = load_schema(name)
    found = []
    for error in validator(name).iter_errors(instance):
        path = tuple(error.instance_path)
        kind = type(error.kind).__name__
        field = dotted(path)
        if kind == "AdditionalProperties":
            for key in error.kind.unexpected:
                found.append((locate(path + (key,)), f"unknown key '{key}'" + (f" in {field}" if path else "")))
            continue
        if kind == "Required":
            missing = error.message.split('"')[1] if '"' in error.message else error.message
            where = f" in {field}" if path else ""
            found.append((locate(path), f"missing required key '{missing}'{where}"))
            continue
        value = _value_at(instance, path)
        node = _schema_node(schema, error.schema_path)
        if kind == "Type":
            expected = node.get("type")
            hint = ""
            if expected in ("number", "integer") and isinstance(value, str):
                hint = " (write the number without quotes)"
            if expected == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
                hint = " (put the value in quotes)"
            found.append((locate(path), f"{field} must be {_article(expected)}, not {_TYPE_NAMES.get(type(value), type(value).__name__)}{hint}"))
            continue
        if kind == "Pattern" and isinstance(value, str) and "\n" in value:
            found.append((locate(path), f"{field} must be a single line"))
            continue
        if kind in ("Pattern", "Format"):
            example = node.get("examples", [None])[0]
            hint = f" (expected something like {example})" if example else ""
            what = "a valid date" if node.get("format") == "date" and kind == "Format" else "in the expected format"
            found.append((locate(path), f"{field} is not {what}: {short(value)}{hint}"))
            continue
        found.append((locate(path), f"{field}: {error.message if len(error.message) < 160 else error.message[:157] + '...'}"))
    return found


def _article(type_name) -> str:
    return {"integer": "a whole number", "number": "a number", "string": "a string", "object": "a mapping", "array": "a list"}.get(type_name, str(type_name))


def _value_at(instance, path):
    for part in path:
        try:
            instance = instance[part]
        except (KeyError, IndexError, TypeError):
            return None
    return instance
