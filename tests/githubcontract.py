"""GitHub's own published contract, which the fake GitHub (tests/fakegithub.py) is held to.

The descriptions are GitHub's: its REST API for api.github.com (`@octokit/openapi`, OpenAPI 3.0.3)
and its webhook payloads (`@octokit/openapi-webhooks`, OpenAPI 3.1), pinned with their sha512 in
requirements/github/package-lock.json and installed by `make setup` into .venv/github. They are read
with openapi-schema-validator (jsonschema with OpenAPI's dialects), nothing hand-written:

- `operation(method, path)`: the documented operation a call is, or None;
- `request_errors` / `response_errors`: what in a request body or a response does not hold;
- `webhook_errors(event, payload)`: what in the payload of an event (and its action) does not hold;
- `example(name)`: a copy of one of GitHub's own examples (components/examples), to build answers on.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator, OAS31Validator, oas30_format_checker, oas31_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / ".venv" / "github" / "node_modules" / "@octokit"
REST = PACKAGES / "openapi" / "generated" / "api.github.com.json"
WEBHOOKS = PACKAGES / "openapi-webhooks" / "generated" / "api.github.com.json"
LOCK = ROOT / "requirements" / "github" / "package-lock.json"
REST_URI, WEBHOOKS_URI = "urn:github:rest", "urn:github:webhooks"
METHODS = ("get", "post", "put", "patch", "delete")


def pinned() -> dict[str, str]:
    """{"@octokit/openapi": "23.0.2", ...}: the versions the tests hold to, from the lock."""
    packages = json.loads(LOCK.read_text(encoding="utf-8"))["packages"]
    return {name.removeprefix("node_modules/"): meta["version"] for name, meta in packages.items() if name}


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    template: str  # /repos/{owner}/{repo}/pulls
    pointer: str  # JSON pointer of the operation in the REST description
    spec: dict

    @property
    def documentation_url(self) -> str:
        return (self.spec.get("externalDocs") or {}).get("url", "https://docs.github.com/rest")


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _messages(validator, instance, limit: int = 5) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if not errors:
        return []
    best = best_match(errors)
    where = lambda e: "/".join(str(p) for p in e.absolute_path) or "(top level)"  # noqa: E731
    shown = [best, *(e for e in errors if e is not best)][:limit]
    return [f"{where(e)}: {e.message[:300]}" for e in shown]


class Contract:
    def __init__(self, rest: Path = REST, webhooks: Path = WEBHOOKS):
        missing = [str(p) for p in (rest, webhooks) if not p.exists()]
        if missing:
            raise FileNotFoundError(f"GitHub's descriptions are not installed ({', '.join(missing)}): run make setup")
        self.rest = json.loads(rest.read_text(encoding="utf-8"))
        self.webhooks = json.loads(webhooks.read_text(encoding="utf-8"))
        self.registry = Registry().with_resources([
            (REST_URI, Resource.from_contents(self.rest, default_specification=DRAFT4)),
            (WEBHOOKS_URI, Resource.from_contents(self.webhooks, default_specification=DRAFT202012)),
        ])  # fmt: skip
        self._operations = []
        for template, item in self.rest["paths"].items():
            # A parameter is one path segment; a file's {path} (the last one) may hold slashes.
            pattern = re.sub(r"\\\{([a-z_]+)\\\}", lambda m: "(?P<" + m.group(1) + ">.+)" if m.group(1) == "path" else "(?P<" + m.group(1) + ">[^/]+)", re.escape(template))
            literal = len(re.sub(r"\{[a-z_]+\}", "", template))
            for method in METHODS:
                if method in item:
                    pointer = f"/paths/{_escape(template)}/{method}"
                    self._operations.append((literal, re.compile(pattern), Operation(method.upper(), template, pointer, item[method])))
        self._operations.sort(key=lambda entry: -entry[0])  # the most literal template first: /issues/comments/{id} before /issues/{n}

    @property
    def version(self) -> str:
        return self.rest["info"]["version"]

    def operation(self, method: str, path: str) -> Operation | None:
        for _literal, pattern, operation in self._operations:
            if operation.method == method.upper() and pattern.fullmatch(path):
                return operation
        return None

    def request_errors(self, method: str, path: str, body) -> list[str]:
        operation = self.operation(method, path)
        if operation is None:
            return [f"{method} {path}: not an operation of GitHub's REST API {self.version}"]
        content = ((operation.spec.get("requestBody") or {}).get("content") or {}).get("application/json")
        if content is None:
            return [] if body in (None, {}) else [f"{method} {operation.template}: takes no JSON body"]
        return _messages(_validator(self, REST_URI, f"{operation.pointer}/requestBody/content/application~1json/schema", OAS30Validator), body)

    def response_errors(self, method: str, path: str, status: int, body) -> list[str]:
        operation = self.operation(method, path)
        if operation is None:
            return [f"{method} {path}: not an operation of GitHub's REST API {self.version}"]
        responses = operation.spec["responses"]
        if str(status) not in responses and status >= 400:
            # GitHub answers any endpoint with an error its description does not list (403 to a token without the
            # permission, for one): its generic error body, then.
            return _messages(_validator(self, REST_URI, "/components/schemas/basic-error", OAS30Validator), body)
        if str(status) not in responses:
            return [f"{method} {operation.template}: GitHub does not answer {status} (it answers {', '.join(responses)})"]
        response = responses[str(status)]
        pointer = f"{operation.pointer}/responses/{status}"
        if "$ref" in response:  # a shared response: #/components/responses/...
            pointer = response["$ref"].removeprefix("#")
            response = self._resolve(self.rest, pointer)
        if "application/json" not in (response.get("content") or {}):
            return [] if body in (None, "", b"") else [f"{method} {operation.template} {status}: GitHub sends no JSON body"]
        return _messages(_validator(self, REST_URI, f"{pointer}/content/application~1json/schema", OAS30Validator), body)

    def webhook_errors(self, event: str, payload: dict) -> list[str]:
        name = event.replace("_", "-") + (f"-{payload['action']}" if "action" in payload and event not in ("workflow_dispatch",) else "")
        if name not in self.webhooks["webhooks"]:
            return [f"{name}: not a webhook GitHub sends (@octokit/openapi-webhooks {self.webhooks['info']['version']})"]
        pointer = f"/webhooks/{_escape(name)}/post/requestBody/content/application~1json/schema"
        return _messages(_validator(self, WEBHOOKS_URI, pointer, OAS31Validator), payload)

    # ---- answers in GitHub's shape: what the fake knows, with every other field GitHub requires filled in ----

    def complete_response(self, method: str, path: str, status: int, body, base_url: str, now: str):
        """`body` with each field the response schema requires and the fake does not model filled in (its own values kept)."""
        operation = self.operation(method, path)
        response = operation and operation.spec["responses"].get(str(status))
        if response is None:
            return body
        if "$ref" in response:
            response = self._resolve(self.rest, response["$ref"].removeprefix("#"))
        schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
        return body if schema is None else _Filler(self.rest, base_url, now).complete(schema, body)

    def complete_schema(self, name: str, value, base_url: str, now: str):
        """`value` completed as the REST description's components/schemas/`name` (a user, a repository, ...)."""
        return _Filler(self.rest, base_url, now).complete({"$ref": f"#/components/schemas/{name}"}, value)

    def complete_webhook(self, event: str, payload: dict, base_url: str, now: str) -> dict:
        name = event.replace("_", "-") + (f"-{payload['action']}" if "action" in payload and event != "workflow_dispatch" else "")
        hook = self.webhooks["webhooks"].get(name)
        if hook is None:
            return payload
        return _Filler(self.webhooks, base_url, now).complete(hook["post"]["requestBody"]["content"]["application/json"]["schema"], payload)

    def example(self, name: str) -> dict:
        return copy.deepcopy(self.rest["components"]["examples"][name]["value"])

    @staticmethod
    def _resolve(document: dict, pointer: str):
        node = document
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node


_MISSING = object()


class _Filler:
    """Completes a value to a schema: a required field that is missing gets the plainest value its schema allows (null
    where nullable, the first of an enum, a URL under the fake's own address, the time now, 0, false, [], an object
    completed in turn); a field that is there is kept, and completed inside. A oneOf/anyOf takes the branch the value
    fits best. The validators then judge the result: the fake's own values are never bent to fit."""

    def __init__(self, document: dict, base_url: str, now: str):
        self.document, self.base_url, self.now = document, base_url, now

    def deref(self, schema: dict) -> dict:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 50:
            schema = Contract._resolve(self.document, schema["$ref"].removeprefix("#"))
            seen += 1
        return schema

    def complete(self, schema: dict, value, name: str = "", depth: int = 0):
        schema = self.deref(schema)
        if depth > 40 or not isinstance(schema, dict):
            return None if value is _MISSING else value
        if value is _MISSING:
            return self.fill(schema, name, depth)
        for part in schema.get("allOf", []):
            value = self.complete(part, value, name, depth + 1)
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            discriminator = schema.get("discriminator") or {}
            chosen = isinstance(value, dict) and (discriminator.get("mapping") or {}).get(value.get(discriminator.get("propertyName")))
            return self.complete({"$ref": chosen} if chosen else self._branch(branches, value), value, name, depth + 1)
        properties = schema.get("properties", {})
        if isinstance(value, dict):
            for key in schema.get("required", []):
                if key not in value:
                    value[key] = self.complete(properties.get(key, {}), _MISSING, key, depth + 1)
            for key, item in value.items():
                if key in properties and isinstance(item, (dict, list)):
                    value[key] = self.complete(properties[key], item, key, depth + 1)
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            return [self.complete(schema["items"], item, name, depth + 1) for item in value]
        return value

    def _types(self, schema: dict) -> list[str]:
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind else []
        if not kinds and ("properties" in schema or "required" in schema):
            kinds = ["object"]
        return kinds

    def _branch(self, branches: list, value) -> dict:
        best, score = self.deref(branches[0]), -1
        for branch in map(self.deref, branches):
            merged = {}
            for part in [branch, *map(self.deref, branch.get("allOf", []))]:
                merged.update(part.get("properties", {}))
            kinds = self._types(branch)
            fits = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}[type(value)]
            if kinds and fits not in kinds and not (fits == "integer" and "number" in kinds) and not (value is None and branch.get("nullable")):
                continue
            points = len(set(value) & set(merged)) if isinstance(value, dict) else 0
            if points > score:
                best, score = branch, points
        return best

    def fill(self, schema: dict, name: str, depth: int):
        schema = self.deref(schema)
        for key in ("oneOf", "anyOf"):
            if schema.get(key):
                options = [self.deref(b) for b in schema[key]]
                plain = [b for b in options if self._types(b) != ["null"]]
                return self.fill((plain or options)[0], name, depth + 1)
        if schema.get("allOf"):
            value = {}
            for part in schema["allOf"]:
                filled = self.fill(part, name, depth + 1)
                if isinstance(filled, dict):
                    value.update(filled)
            return self.complete({k: v for k, v in schema.items() if k != "allOf"}, value, name, depth + 1) if value else value
        kinds = self._types(schema)
        if schema.get("nullable") or "null" in kinds:
            return None
        if "enum" in schema:
            return schema["enum"][0]
        kind = kinds[0] if kinds else None
        if kind == "object":
            return self.complete(schema, {}, name, depth + 1)
        if kind == "array":
            return []
        if kind == "string":
            form = schema.get("format")
            if form == "date-time":
                return self.now
            if form in ("uri", "url", "uri-template"):
                return f"{self.base_url}/-/{name or 'url'}"
            if form == "email":
                return "noreply@github.invalid"
            return ""
        if kind in ("integer", "number"):
            return schema.get("minimum", 0)
        if kind == "boolean":
            return False
        return None


@functools.lru_cache(maxsize=512)
def _validator(contract: Contract, uri: str, pointer: str, dialect):
    # Formats too (uri, date-time, email): a URL that is "" is not one.
    checker = oas31_format_checker if dialect is OAS31Validator else oas30_format_checker
    return dialect({"$ref": f"{uri}#{pointer}"}, registry=contract.registry, format_checker=checker)


@functools.lru_cache(maxsize=1)
def contract() -> Contract:
    """The one Contract of this process (the descriptions take about a second to read and index)."""
    return Contract()
