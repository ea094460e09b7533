"""`bandwidth new`: write a valid request file with the next free id."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from bandwidth.allocations import yamlsafe
from bandwidth.allocations.loader import REQUEST_SUFFIX
from bandwidth.errors import UsageError
from bandwidth.units import UnitError, kbit_to_mbps_text, mbps_to_kbit

_ID = re.compile(r"BW-(\d{4})-(\d{4})\.yaml\Z")
_SAFE_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/()@,+-]*\Z")

# (argument, prompt in Bahasa Indonesia for requesters, required)
FIELDS = [
    ("agency", "Nama instansi / OPD (Pengguna Bandwidth)", True),
    ("letter_number", "Nomor Surat Permohonan", True),
    ("letter_date", "Tanggal Surat Permohonan (YYYY-MM-DD)", True),
    ("contact_name", "Nama narahubung", True),
    ("contact_email", "Email narahubung", True),
    ("github", "Akun GitHub narahubung (boleh kosong)", False),
    ("gateway", "Gateway", True),
    ("uplink", "Uplink", True),
    ("subnet", "Subnet jaringan instansi (pisahkan dengan koma)", True),
    ("download", "Unduh, jaminan:maksimum dalam Mbit/s (mis. 50:100)", True),
    ("upload", "Unggah, jaminan:maksimum dalam Mbit/s (mis. 20:40)", True),
    ("priority", "Prioritas 0 (tertinggi) s.d. 7", True),
    ("start", "Tanggal mulai (YYYY-MM-DD)", True),
    ("end", "Tanggal berakhir untuk alokasi sementara (boleh kosong)", False),
    ("purpose", "Keperluan", True),
]


def next_id(root: Path, year: int) -> str:
    """One more than the highest BW-<year>-NNNN in any gateway folder."""
    highest = 0
    for path in (root / "allocations").glob(f"*/BW-{year}-*{REQUEST_SUFFIX}"):
        match = _ID.match(path.name)
        if match and int(match.group(1)) == year:
            highest = max(highest, int(match.group(2)))
    if highest >= 9999:
        raise UsageError(f"no free id left for {year}")
    return f"BW-{year}-{highest + 1:04d}"


def scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly this string."""
    if _SAFE_PLAIN.match(value) and yamlsafe.resolve_plain(value) == value and ": " not in value and " #" not in value:
        return value
    return json.dumps(value, ensure_ascii=False)


def _rate(text: str, name: str) -> tuple[str, str]:
    parts = text.replace(" ", "").split(":")
    if len(parts) != 2:
        raise UsageError(f"--{name} takes guaranteed:max in Mbit/s, e.g. 50:100 (got {text!r})")
    try:
        return tuple(kbit_to_mbps_text(mbps_to_kbit(p)) for p in parts)
    except UnitError as exc:
        raise UsageError(f"--{name}: {exc}") from None


def render(values: dict, request_id: str) -> str:
    down, up = _rate(values["download"], "download"), _rate(values["upload"], "upload")
    subnets = ", ".join(scalar(s) for s in values["subnet"])
    contact = f"name: {scalar(values['contact_name'])}, email: {scalar(values['contact_email'])}"
    if values.get("github"):
        contact += f", github: {scalar(values['github'])}"
    text = [
        "# yaml-language-server: $schema=../../schemas/allocation.schema.json",
        f"id: {request_id}",
        f"agency: {scalar(values['agency'])}",
        f"letter: {{number: {scalar(values['letter_number'])}, date: {scalar(values['letter_date'])}}}",
        f"contact: {{{contact}}}",
        f"gateway: {scalar(values['gateway'])}",
        f"uplink: {scalar(values['uplink'])}",
        f"subnets: [{subnets}]",
        f"download: {{guaranteed_mbps: {down[0]}, max_mbps: {down[1]}}}",
        f"upload: {{guaranteed_mbps: {up[0]}, max_mbps: {up[1]}}}",
        f"priority: {int(values['priority'])}",
        f"start: {scalar(values['start'])}",
    ]
    if values.get("end"):
        text.append(f"end: {scalar(values['end'])}")
    text.append(f"purpose: {scalar(values['purpose'])}")
    return "\n".join(text) + "\n"


def _collect(args) -> dict:
    values = {name: getattr(args, name) for name, _prompt, _required in FIELDS}
    if isinstance(values["subnet"], list):
        values["subnet"] = [s for item in values["subnet"] for s in item.split(",") if s.strip()]
    missing = [name for name, _prompt, required in FIELDS if required and values[name] in (None, [], "")]
    if missing and sys.stdin.isatty():
        for name, prompt, _required in FIELDS:
            if values[name] in (None, [], ""):
                sys.stderr.write(f"{prompt}: ")  # prompts on stderr: stdout is the path written
                sys.stderr.flush()
                answer = sys.stdin.readline().strip()
                values[name] = [s.strip() for s in answer.split(",") if s.strip()] if name == "subnet" else answer
        missing = [name for name, _prompt, required in FIELDS if required and values[name] in (None, [], "")]
    if missing:
        flags = ", ".join("--" + name.replace("_", "-") for name in missing)
        raise UsageError(f"missing {flags} (give them as flags, or run on a terminal to be asked)")
    return values


def run(args) -> int:
    from bandwidth.allocations.check_output import text as print_text
    from bandwidth.allocations.checker import CheckOptions, local_today, run_check

    values = _collect(args)
    today = args.today or local_today()
    values["start"] = values["start"] or today.isoformat()
    request_id = next_id(args.repo, today.year)
    content = render(values, request_id)
    if args.stdout:
        sys.stdout.write(content)
        return 0
    folder = args.repo / "allocations" / values["gateway"]
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", values["gateway"]):
        raise UsageError(f"--gateway {values['gateway']!r} is not a gateway name")
    path = folder / f"{request_id}{REQUEST_SUFFIX}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:  # never overwrite a request
        handle.write(content)
    rel = f"allocations/{values['gateway']}/{path.name}"
    result = run_check(CheckOptions(root=args.repo, inventory=args.inventory, today=today))
    result.problems = [p for p in result.problems if p.path == rel]
    if result.errors:
        path.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
        print_text(result, out=sys.stderr)
        print(f"bandwidth: {rel} not written: fix the values above", file=sys.stderr)
        return 1
    print(rel)
    return 0
