"""The page every HTML file of this tool starts with: one stylesheet, escaping, and a policy that loads nothing.

Every text goes through `h`: escape.html_text, and ':' as an entity, so that not even a request's text
puts a URL (http://...) into a page.
"""

from __future__ import annotations

from bandwidth.escape import html_text, printable

CSS = """
:root { --pass: #2e7d32; --fail: #c62828; --none: #9e9e9e; --not-applied: #e65100; --max: #b0bec5; --alloc: #1565c0; --reserve: #90a4ae; --free: #c8e6c9; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: #212121; margin: 24px; font-size: 14px; line-height: 1.4; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ccc; padding-bottom: 3px; }
.sub { color: #555; margin: 0 0 16px; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 0 0 14px; } dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; }
.result { padding: 8px 12px; border-left: 6px solid var(--pass); background: #f1f8e9; font-weight: bold; }
.result.bad { border-color: var(--fail); background: #ffebee; }
.result.partial { border-color: var(--none); background: #f5f5f5; }
table { border-collapse: collapse; width: 100%; font-size: 12px; } th, td { border: 1px solid #bbb; padding: 3px 5px; vertical-align: top; text-align: left; }
th { background: #eceff1; } td.num { text-align: right; white-space: nowrap; } td.rtt { text-align: right; } small.reason { overflow-wrap: anywhere; }
.v-pass { color: var(--pass); font-weight: bold; } .v-fail { color: var(--fail); font-weight: bold; } .v-not_measured { color: #616161; }
.v-not_applied { color: var(--not-applied); font-weight: bold; }
svg.chart { width: 100%; height: auto; display: block; margin: 6px 0; }
svg.chart text { font-family: inherit; font-size: 12px; fill: #212121; } svg.chart text.small { font-size: 11px; fill: #424242; } svg.chart text.id { font-weight: bold; }
svg .max { fill: var(--max); } svg .pass { fill: var(--pass); } svg .fail { fill: var(--fail); } svg .not_measured { fill: var(--none); }
svg .not_applied { fill: var(--not-applied); }
svg .alloc { fill: var(--alloc); } svg .reserve { fill: var(--reserve); } svg .free { fill: var(--free); } svg .over { fill: var(--fail); }
svg .goodput { opacity: 0.45; }
svg .guaranteed { stroke: #000; stroke-width: 2; stroke-dasharray: 3 2; } svg .contention { fill: #fff; stroke: #000; stroke-width: 1.2; } svg .rule { stroke: #e0e0e0; }
svg .contention-goodput { fill: #fff; stroke: #757575; stroke-width: 1; }
svg .frame { fill: none; stroke: #757575; }
svg text.v-pass { fill: var(--pass); } svg text.v-fail { fill: var(--fail); } svg text.v-not_measured { fill: #616161; }
svg text.v-not_applied { fill: var(--not-applied); }
p.note { color: #555; font-size: 12px; } pre { white-space: pre-wrap; font-size: 11px; background: #fafafa; border: 1px solid #ddd; padding: 6px; }
@page { size: A4; margin: 12mm; }
@media print { body { margin: 0; font-size: 11px; } h2 { break-after: avoid; } svg.chart, tr { break-inside: avoid; } }
"""


def h(text) -> str:
    """Text for HTML and SVG: escaped, control characters visible, and no 'scheme:' that could read as a URL."""
    return html_text(text).replace(":", "&#58;")


def short(text, limit: int) -> str:
    """At most `limit` characters (cut before escaping, so that no entity is cut)."""
    plain = " ".join(printable(str(text)).split())
    return h(plain if len(plain) <= limit else plain[: limit - 1] + "…")


def page_start(title: str, css: str = CSS) -> list[str]:
    """The head of every page this tool writes: self-contained, and a CSP that loads nothing. `title` is escaped here."""
    return [
        "<!DOCTYPE html>",
        '<html lang="id">',
        "<head>",
        '<meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(title)}</title>",
        f"<style>{css}</style>",
        "</head>",
        "<body>",
    ]
