"""Escaping of text that comes from request files, for every output format."""

from __future__ import annotations

import html
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff\ud800-\udfff]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|~!])")


def printable(text: str) -> str:
    """Control and invisible characters as visible \\u escapes (for terminals and logs)."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def markdown(text: str) -> str:
    """Text that GitHub Markdown shows literally: no markup, no HTML, no @mentions, no #links."""
    text = " ".join(printable(str(text)).split())
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # Entities, not backslashes, for what GitHub would otherwise turn into HTML, mentions or references.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;").replace(":", "&#58;")


def code_span(text: str) -> str:
    """Text in a Markdown code span: GitHub shows every character as it is, in the page and in the
    notification e-mail alike (no markup, HTML, entity, mention, link or emoji), on one line."""
    text = " ".join(printable(str(text)).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"  # one space each side, which Markdown strips: a backtick may start or end the text


def plain(text: str) -> str:
    """Text as it is when Markdown would show it so, else as a code span (never as entities)."""
    return text if markdown(text) == text else code_span(text)


def html_text(text: str) -> str:
    return html.escape(printable(str(text)), quote=True)


def github_data(text: str) -> str:
    """The message part of a workflow command (::error ...::message)."""
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value of a workflow command (file=..., title=...)."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")
