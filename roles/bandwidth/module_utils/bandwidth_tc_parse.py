"""The tc core, parsers: the live state as tc prints it (iproute2 6.1 and newer), into plain data.

Standard library only (Python 3.10+, as the gateways have): it runs on the gateways (the Ansible modules, the boot restore)
and in the CLI (`bandwidth render`, `measure`, `monitor`), which imports it from this folder, its
single home (scripts/bandwidth/shaping/tc.py).

qdiscs and filters are read from `tc -j` (JSON); HTB classes from `tc -d class show` (text: iproute2
6.1 prints HTB's options only as text); counters from `tc -s -j class show`, as JSON or, where a
qdisc kind prints its options as text inside the JSON, as text.
"""

from __future__ import annotations

import json
import re

COUNTERS = ("bytes", "packets", "drops", "overlimits")
# iproute2's text form: "class htb 1:4b51 parent 1:1 ..." then " Sent 1234 bytes 5 pkt (dropped 0, overlimits 7 requeues 0)".
_CLASS_LINE = re.compile(r"^class\s+\S+\s+([0-9a-fA-F]+:[0-9a-fA-F]*)")
_SENT_LINE = re.compile(r"^\s*Sent\s+(\d+)\s+bytes\s+(\d+)\s+pkts?\s+\(dropped\s+(\d+),\s+overlimits\s+(\d+)")


def _json_with_repeats(text: str):
    """tc -j repeats the key "match" in one object; keep every value."""

    def pairs(items):
        result = {}
        for key, value in items:
            if key in result:
                if not isinstance(result[key], list) or key != "match":
                    result[key] = [result[key]]
                result[key].append(value)
            else:
                result[key] = [value] if key == "match" else value
        return result

    return json.loads(text or "[]", object_pairs_hook=pairs)


def parse_qdiscs(text: str) -> list[dict]:
    return _json_with_repeats(text)


def parse_classes(text: str) -> dict[int, dict]:
    """`tc -d class show dev X` (HTB prints classes only as text in iproute2 6.1)."""
    classes = {}
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) < 3 or tokens[0] != "class" or tokens[1] != "htb":
            continue
        major, minor = tokens[2].split(":")
        if major != "1":
            continue
        item = {"parent": None, "rate": None, "ceil": None, "prio": None, "quantum": None, "burst": None, "cburst": None, "leaf": None}
        index = 3
        while index < len(tokens):
            token = tokens[index]
            if token == "root":  # noqa: S105 - a tc keyword, not a password
                item["parent"] = "root"
                index += 1
                continue
            if token in ("parent", "rate", "ceil", "leaf", "prio", "quantum", "burst", "cburst") and index + 1 < len(tokens):
                value = tokens[index + 1]
                if token in ("prio", "quantum"):
                    item[token] = int(value)
                elif token in ("burst", "cburst"):
                    item[token] = size_bytes(value)
                else:
                    item[token] = value
                index += 2
                continue
            index += 1
        classes[int(minor, 16)] = item
    return classes


def size_bytes(text: str) -> int | None:
    """A size as tc prints it (iproute2's sprint_size: 1600b, 15Kb, 2Mb; a burst adds /<cell>)."""
    match = re.fullmatch(r"([0-9.]+)(b|Kb|Mb)(?:/[0-9]+)?", text)
    if not match:
        return None
    return round(float(match.group(1)) * {"b": 1, "Kb": 1024, "Mb": 1024 * 1024}[match.group(2)])


def parse_filters(text: str) -> dict:
    """Our u32 filters under parent 1: from `tc -j filter show dev X`."""
    state = {"tables": set(), "links": {}, "leaves": {}}  # leaves: handle -> (version, bucket, matches, minor)
    for entry in _json_with_repeats(text):
        options = entry.get("options")
        if entry.get("kind") != "u32" or not options or entry.get("parent", "1:") != "1:":
            continue
        version = 6 if entry.get("protocol") == "ipv6" else 4
        handle = options.get("fh", "")
        if "ht_divisor" in options:
            if options["ht_divisor"] == 256:
                state["tables"].add((version, handle))
            continue
        if "link" in options:
            state["links"][version] = (options["link"], int(options.get("hash_mask", "0"), 16), options.get("hash_off"), handle)
            continue
        parts = handle.split(":")
        if len(parts) == 3 and "flowid" in options:
            matches = tuple((int(m["value"], 16), int(m["mask"], 16), m["off"]) for m in options.get("match", []))
            minor = int(options["flowid"].split(":")[1], 16)
            table, bucket, node = (int(part or "0", 16) for part in parts)  # tc prints bucket 0 as "2::1"
            state["leaves"][f"{table:x}:{bucket:x}:{node:x}"] = (version, bucket, matches, minor)
    return state


def redirect_targets(filters_text: str) -> list[str]:
    """The devices an ingress redirects to (mirred egress redirect), from `tc -j filter show ... parent ffff:`."""
    found = set()
    for entry in _json_with_repeats(filters_text):
        for action in (entry.get("options") or {}).get("actions", []):
            if action.get("kind") == "mirred" and action.get("mirred_action") == "redirect" and action.get("to_dev"):
                found.add(action["to_dev"])
    return sorted(found)


def parse_counters(text: str) -> dict:
    """classid -> {bytes, packets, drops, overlimits} from `tc -s -j class show`, as JSON or as text."""
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped[0] in "[{":
        try:
            return _counters_from_json(json.loads(stripped))
        except ValueError:
            pass  # text inside the JSON (a qdisc kind whose options print as text): read it as text
    return _counters_from_text(stripped)


def _counters_from_json(entries) -> dict:
    found = {}
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict) or not isinstance(entry.get("handle"), str):
            continue
        stats = entry.get("stats") if isinstance(entry.get("stats"), dict) else entry  # older iproute2 nest them
        values = {name: stats.get(name, entry.get(name)) for name in COUNTERS}
        if all(isinstance(v, int) for v in values.values()):
            found[entry["handle"]] = values
    return found


def _counters_from_text(text: str) -> dict:
    found, current = {}, None
    for line in text.splitlines():
        match = _CLASS_LINE.match(line)
        if match:
            current = match.group(1)
            continue
        match = _SENT_LINE.match(line)
        if match and current is not None:
            found[current] = dict(zip(COUNTERS, (int(v) for v in match.groups()), strict=True))
            current = None  # one counter line per class
    return found
