"""The forms about an allocation that is already there: change, extend, give back (`bandwidth from-issue --form`).

Each names the allocation by id and the agency that holds it, and brings a new Surat Permohonan (every change
has its own letter) and a contact, who becomes the file's contact and so the requester the chain's rules apply
to. The answer is the request file as it would be after the change: written (or, for a gateway move, written in
the new gateway's folder and removed from the old one) or removed, and checked as `bandwidth check` checks it.
A form about an id that does not exist, held by another agency, or that changes nothing gets a message naming
the field, in Bahasa Indonesia, as the new-request form does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from bandwidth.allocations import scaffold
from bandwidth.allocations.loader import REQUEST_SUFFIX, parse_allocation, read_limited
from bandwidth.errors import UsageError
from bandwidth.escape import code_span, plain
from bandwidth.model import Allocation
from bandwidth.units import kbit_to_mbps_text

KEEP = "(tidak berubah)"  # the change form's dropdowns: the first option leaves the value as it is
NO_END = "tanpa batas"
ID = re.compile(r"BW-[0-9]{4}-[0-9]{4}")
COMMON = ("id", "agency", "letter_number", "letter_date", "contact_name", "contact_email")


class Refused(Exception):
    """The form cannot become a change: the messages (Markdown, Bahasa Indonesia) say which field and why."""

    def __init__(self, *messages: str):
        super().__init__(messages)
        self.messages = list(messages)


@dataclass
class Outcome:
    """What the form does to the repository: paths relative to it."""

    write: str | None = None
    remove: str | None = None
    values: dict = field(default_factory=dict)  # the file's values after the change (empty for a removal)


def values_of(allocation: Allocation) -> dict:
    """The request file's values as scaffold.render takes them."""

    def rate(direction: str) -> str:
        r = allocation.rate(direction)
        return f"{kbit_to_mbps_text(r.guaranteed_kbit)}:{kbit_to_mbps_text(r.max_kbit)}"

    return {
        "agency": allocation.agency, "letter_number": allocation.letter_number, "letter_date": allocation.letter_date.isoformat(),
        "contact_name": allocation.contact_name, "contact_email": allocation.contact_email, "github": allocation.contact_github,
        "gateway": allocation.gateway, "uplink": allocation.uplink, "subnet": [str(s) for s in allocation.subnets],
        "download": rate("download"), "upload": rate("upload"), "priority": str(allocation.priority),
        "start": allocation.start.isoformat(), "end": allocation.end.isoformat() if allocation.end else None, "purpose": allocation.purpose,
    }  # fmt: skip


def _field(names: dict[str, str], field_id: str) -> str:
    return f"Kolom «{plain(names.get(field_id, field_id))}»"


def _date(answers: dict, names: dict, field_id: str) -> dt.date:
    text = answers[field_id].strip()
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{_field(names, field_id)} harus tanggal dengan format TTTT-BB-HH, mis. `2026-12-31`.") from None


def find(repo: Path, answers: dict, names: dict) -> Allocation:
    """The allocation the form names, held by the agency it names."""
    request_id = answers["id"].strip().upper()
    if not ID.fullmatch(request_id):
        raise Refused(f"{_field(names, 'id')} harus ID alokasi seperti `BW-2026-0001`.")
    found = sorted((repo / "allocations").glob(f"*/{request_id}{REQUEST_SUFFIX}"))
    if not found:
        raise Refused(f"{_field(names, 'id')}: alokasi {code_span(request_id)} tidak ditemukan.")
    rel = found[0].relative_to(repo).as_posix()
    allocation, problems = parse_allocation(rel, read_limited(found[0]))
    if allocation is None:
        raise Refused(f"{_field(names, 'id')}: berkas alokasi {code_span(request_id)} tidak dapat dibaca ({code_span(problems[0].message)}); hubungi tim teknis.")
    if " ".join(answers["agency"].split()).casefold() != " ".join(allocation.agency.split()).casefold():
        raise Refused(f"{_field(names, 'agency')}: alokasi {code_span(request_id)} tercatat atas nama instansi lain. Hanya instansi pemiliknya yang dapat mengajukan {names['_what']}.")
    if answers["letter_number"].strip() == allocation.letter_number:
        raise Refused(f"{_field(names, 'letter_number')}: sama dengan surat yang tercatat pada alokasi ini. Setiap perubahan memerlukan Surat Permohonan baru.")
    return allocation


def _with_letter_and_contact(values: dict, answers: dict, github: str | None) -> dict:
    return {
        **values, "letter_number": answers["letter_number"].strip(), "letter_date": answers["letter_date"].strip(),
        "contact_name": answers["contact_name"].strip(), "contact_email": answers["contact_email"].strip(), "github": github,
    }  # fmt: skip


SUBSTANCE = ("gateway", "uplink", "subnet", "download", "upload", "priority", "start", "end")  # what a form must change


def _mbps(answers: dict, names: dict, field_id: str, old: str) -> str:
    text = answers.get(field_id, "").strip().replace(",", ".")
    if not text:
        return old
    if not re.fullmatch(r"[0-9]+(\.[0-9]{1,3})?", text):
        raise Refused(f"{_field(names, field_id)} tidak valid: isi angka Mbit/s, paling banyak 3 desimal.")
    return text


def change(allocation: Allocation, answers: dict, names: dict, github: str | None, today: dt.date) -> dict:
    """Perubahan Bandwidth: what the form fills, the rest as it was."""
    del today  # a change starts when it is applied
    values = _with_letter_and_contact(values_of(allocation), answers, github)
    for key in ("gateway", "uplink"):
        chosen = answers.get(key, KEEP).strip()
        if chosen and chosen != KEEP:
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", chosen):
                raise Refused(f"{_field(names, key)} tidak dikenal.")
            values[key] = chosen
    if answers.get("subnets", "").strip():
        values["subnet"] = [s for s in re.split(r"[\s,]+", answers["subnets"]) if s]
    for direction in ("download", "upload"):
        guaranteed, maximum = values[direction].split(":")
        values[direction] = f"{_mbps(answers, names, f'{direction}_guaranteed', guaranteed)}:{_mbps(answers, names, f'{direction}_max', maximum)}"
    priority = answers.get("priority", KEEP).strip()
    if priority and priority != KEEP:
        if not re.fullmatch(r"[0-7]", priority.split()[0]):
            raise Refused(f"{_field(names, 'priority')} harus angka 0 sampai 7.")
        values["priority"] = priority.split()[0]
    return values


def extend(allocation: Allocation, answers: dict, names: dict, github: str | None, today: dt.date) -> dict:
    """Perpanjangan: a later end, or none."""
    del today  # any later end will do: the check says whether the uplink has room until then
    if allocation.end is None:
        raise Refused(f"Alokasi {code_span(allocation.id)} tidak berbatas waktu: tidak ada yang perlu diperpanjang.")
    values = _with_letter_and_contact(values_of(allocation), answers, github)
    if answers["end"].strip().casefold() == NO_END:
        values["end"] = None
        return values
    end = _date(answers, names, "end")
    if end <= allocation.end:
        raise Refused(f"{_field(names, 'end')} harus sesudah tanggal berakhir yang sekarang ({allocation.end.isoformat()}). Untuk memperpendek gunakan formulir Pengembalian / Pencabutan Bandwidth.")
    values["end"] = end.isoformat()
    return values


def give_back(allocation: Allocation, answers: dict, names: dict, github: str | None, today: dt.date) -> dict | None:
    """Pengembalian / Pencabutan: an end date (today or later, before the current end), or None: remove the file."""
    how = answers["how"].strip().casefold()
    if how.startswith("cabut"):
        return None
    if not how.startswith("berakhir"):
        raise Refused(f"{_field(names, 'how')} tidak dikenal.")
    if "end" not in answers:
        raise Refused(f'{_field(names, "end")} belum diisi: wajib untuk "Berakhir pada tanggal".')
    end = _date(answers, names, "end")
    if end < today:
        raise Refused(f'{_field(names, "end")} sudah lewat: isi hari ini ({today.isoformat()}) atau sesudahnya, atau pilih "Cabut sekarang".')
    if allocation.end is not None and end >= allocation.end:
        raise Refused(f"{_field(names, 'end')}: alokasi ini sudah berakhir pada {allocation.end.isoformat()}; tanggal pengembalian harus sebelumnya.")
    values = _with_letter_and_contact(values_of(allocation), answers, github)
    values["end"] = max(end, allocation.start).isoformat()
    return values


HANDLERS = {"perubahan-bandwidth": (change, "perubahan"), "perpanjangan-bandwidth": (extend, "perpanjangan"), "pengembalian-bandwidth": (give_back, "pengembalian")}


def apply(repo: Path, form: str, answers: dict, names: dict, github: str | None, today: dt.date) -> Outcome:
    """The change the form asks for, written into the working tree (Refused when it cannot be)."""
    handler, what = HANDLERS[form]
    names = {**names, "_what": what}
    allocation = find(repo, answers, names)
    values = handler(allocation, answers, names, github, today)
    if values is None:
        return Outcome(remove=allocation.path)
    old = values_of(allocation)
    try:
        content = scaffold.render(values, allocation.id)
        unchanged = scaffold.render({**values, **{k: old[k] for k in old if k not in SUBSTANCE}}, allocation.id) == scaffold.render(old, allocation.id)
    except UsageError:
        raise Refused("Kolom kecepatan tidak valid: isi angka Mbit/s, paling banyak 3 desimal.") from None
    if unchanged:
        raise Refused(f"Formulir ini tidak mengubah apa pun pada alokasi {code_span(allocation.id)}: isi kolom yang berubah.")
    rel = f"allocations/{values['gateway']}/{allocation.id}{REQUEST_SUFFIX}"
    return Outcome(write=rel, remove=allocation.path if rel != allocation.path else None, values=values | {"content": content})
