"""A YAML reader for untrusted request files.

It builds plain Python values straight from libyaml's event stream, so that it
can refuse what a request file never needs (anchors, aliases, tags, duplicate
keys, several documents) and remember the line of every key. Scalars are
resolved with a deliberately small rule set: dates stay strings and the YAML
1.1 words yes/no/on/off stay strings too, so a value means what it looks like.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import yaml
from yaml import MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent

try:  # libyaml's parser is several times faster; pure Python is the fallback.
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = None

MAX_FILE_BYTES = 64 * 1024

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")  # a dot, as YAML 1.1 wants
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z|\.(?:nan|NaN|NAN)\Z")
_WORDS = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
}  # fmt: skip
_NUMERIC_START = frozenset("0123456789+-.")
# C0/C1 controls (but newline) and the invisible characters that reorder or hide text.
FORBIDDEN_CHARS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]")

Path = tuple  # a tuple of mapping keys and sequence indexes


@dataclass
class Document:
    """The parsed value, the line of each path, and the problems found on the way."""

    value: object = None
    lines: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)  # path -> source text of a plain number
    problems: list = field(default_factory=list)  # (line, message)

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)


class YamlError(Exception):
    """A problem that stops reading a file at `line`."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def resolve_plain(text: str):
    """Resolve a plain (unquoted) scalar to null, bool, int, float or str."""
    if text[:1] in _NUMERIC_START:
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            return float(text)
        if _SPECIAL_FLOAT.match(text):
            return float(text.lower().replace(".", ""))
        return text
    return _WORDS.get(text, text)


def decode(data: bytes) -> str:
    """Decode UTF-8 strictly, naming the line of the first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlError(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def load(data: bytes) -> Document:  # noqa: PLR0912, PLR0915 - one event loop over PyYAML's parser: a branch per event kind
    """Parse one YAML document from untrusted bytes. Raises YamlError when it cannot."""
    if len(data) > MAX_FILE_BYTES:
        raise YamlError(1, f"file is {len(data)} bytes; request files may be at most {MAX_FILE_BYTES}")
    text = decode(data)
    parser = _Parser(text) if _Parser is not None else yaml.SafeLoader(text)
    doc = Document()
    problems, lines, numbers = doc.problems, doc.lines, doc.numbers
    stack: list[_Frame] = []  # the open collections, innermost last
    documents = 0
    try:
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is ScalarEvent:
                line = event.start_mark.line + 1
                if event.anchor is not None or event.tag is not None:
                    _refuse_anchor_and_tag(event, line, problems)
                text_value = event.value
                if stack and stack[-1].key is _NO_KEY and type(stack[-1].container) is dict:
                    # A key. Most are plain words and need no resolving; "1" or "true" would not be strings.
                    frame = stack[-1]
                    if event.implicit[0] and (text_value[:1] in _NUMERIC_START or text_value in _WORDS):
                        text_value = resolve_plain(text_value)
                    frame.key, frame.key_line = _key(text_value, line, frame, lines, problems), line
                    continue
                number_text = None
                if event.implicit[0]:  # plain, so resolve; quoted scalars are strings
                    value = resolve_plain(text_value)
                    if value is not text_value and type(value) is not bool and value is not None:
                        number_text = text_value
                        if not math.isfinite(value):
                            problems.append((line, f"{text_value} is not a finite number"))
                else:
                    value = text_value
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
                continue
            else:
                line = event.start_mark.line + 1
                number_text = None
                if kind is MappingStartEvent or kind is SequenceStartEvent:
                    if event.anchor is not None or event.tag is not None:
                        _refuse_anchor_and_tag(event, line, problems)
                    value = {} if kind is MappingStartEvent else []
                elif kind is yaml.AliasEvent:
                    problems.append((line, f"aliases (*{event.anchor}) are not allowed in request files"))
                    value = None
                elif kind is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        raise YamlError(line, "a request file holds exactly one YAML document")
                    continue
                elif kind is yaml.StreamEndEvent:
                    break
                else:  # StreamStart, DocumentEnd
                    continue

            if not stack:
                path = ()
                doc.value = value
            else:
                frame = stack[-1]
                parent = frame.container
                if type(parent) is list:
                    path = frame.path + (len(parent),)
                    parent.append(value)
                elif frame.key is _NO_KEY:  # a collection where a key should be (scalar keys are handled above)
                    raise YamlError(line, "mapping keys must be plain strings, not collections")
                else:
                    path = frame.path + (frame.key,)
                    if frame.key is not _DUPLICATE:
                        parent[frame.key] = value
                    line = frame.key_line
                    frame.key = _NO_KEY
            lines[path] = line
            if type(value) is str:
                if FORBIDDEN_CHARS.search(value):
                    bad = FORBIDDEN_CHARS.search(value).group()
                    problems.append((line, f"{'.'.join(map(str, path)) or 'value'} contains the control character U+{ord(bad):04X}"))
            elif type(value) is dict or type(value) is list:
                stack.append(_Frame(value, path))
            elif number_text is not None:
                numbers[path] = number_text
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise YamlError(line, f"unacceptable character #x{exc.character:04x}: control characters are not allowed") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(line, f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"YAML error: {exc}") from None
    if documents == 0:
        raise YamlError(1, "file is empty")
    return doc


_NO_KEY = object()
_DUPLICATE = object()


class _Frame:
    __slots__ = ("container", "key", "key_line", "path")

    def __init__(self, container, path):
        self.container, self.path, self.key, self.key_line = container, path, _NO_KEY, 0


def _refuse_anchor_and_tag(event, line: int, problems: list) -> None:
    if event.anchor is not None:
        problems.append((line, f"anchors (&{event.anchor}) are not allowed in request files"))
    if event.tag is not None:
        problems.append((line, f"tags ({event.tag}) are not allowed in request files"))


def _key(value, line: int, frame: _Frame, lines: dict, problems: list):
    """Check a mapping key; duplicates are reported and their values dropped, never silently used."""
    if type(value) is not str:
        problems.append((line, "mapping keys must be plain strings"))
        return _DUPLICATE
    if FORBIDDEN_CHARS.search(value):
        problems.append((line, f"key {value.encode('unicode_escape').decode()[:40]} contains a control character"))
        return _DUPLICATE
    if value in frame.container:
        first = lines.get(frame.path + (value,), "?")
        problems.append((line, f"duplicate key '{value}' (first on line {first})"))
        return _DUPLICATE
    return value
