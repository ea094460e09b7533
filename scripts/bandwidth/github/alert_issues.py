"""One GitHub issue per alert: what `bandwidth alert-webhook` does with Alertmanager's notifications.

An alert is known by its key, `<alertname>/<16 hex digits of sha256 over its labels>`: the same labels
are the same alert (Alertmanager's own identity, computed here so that it does not depend on its
fingerprint's algorithm). Its issue carries the label `peringatan-bandwidth` and begins with two hidden
lines, the key and the state last written:

    <!-- bandwidth-alert: BandwidthCollectorDown/0123456789abcdef -->
    <!-- bandwidth-alert-state: 2026-12-07T06:03:00Z fedcba9876543210 -->

(the state: when the alert started, and a digest of its annotations). A notification lists the open
issues with the label and matches their first line, so it never opens a second issue for an alert:

- firing, no open issue: open one;
- firing, open issue, same state: nothing (Alertmanager repeats a firing alert every repeat_interval);
- firing, open issue, another start (it fired again) or other annotations (it changed): a comment, and
  the body rewritten with the new state;
- resolved, open issue: a comment, then the issue is closed (completed); no open issue: nothing.

A firing after the issue was closed opens a NEW issue: each episode has its own, the closed ones are
the history (and only open issues are listed, so the listing does not grow with time).
Notifications are handled one at a time (a lock): two at once cannot both miss the issue and open two.
Every value from an alert is hostile (an agency's name comes from a request file): the texts carry it
in code spans only (escape.plain / code_span), so no markup, mention, link or HTML comment comes of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from bandwidth.escape import code_span, plain, printable
from bandwidth.github import approvals
from bandwidth.textid import WITA, tanggal

LABEL = "peringatan-bandwidth"
MARKER = re.compile(r"<!-- bandwidth-alert: (?P<key>[A-Za-z0-9_]{1,100}/[0-9a-f]{16}) -->")
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STATUSES = ("firing", "resolved")
VALUE_LIMIT = 1000  # characters of one label or annotation shown; GitHub takes 65,536 per body
TITLE_LABELS = {"gateway": "gateway", "allocation": "alokasi", "direction": "arah"}  # label -> its word in the title
SHOWN_FIRST = ("alertname", "severity", "gateway", "allocation", "agency", "direction")
ARAH = {"download": "unduh", "upload": "unggah"}
ApiError = approvals.ApiError


class PayloadError(ValueError):
    """The request is not Alertmanager's webhook payload (version 4); the message says what is wrong."""


@dataclass(frozen=True)
class Alert:
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime | None  # None: Alertmanager's zero time (not known)
    generator_url: str = ""

    @property
    def name(self) -> str:
        return self.labels["alertname"]

    @property
    def key(self) -> str:
        digest = hashlib.sha256(json.dumps(self.labels, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
        return f"{re.sub(r'[^A-Za-z0-9_]', '_', self.name)[:100]}/{digest}"

    @property
    def started(self) -> str:
        return self.starts_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def state(self) -> str:
        """What a change is judged by: the start, and a digest of the annotations."""
        digest = hashlib.sha256(json.dumps(self.annotations, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
        return f"{self.started} {digest}"


# ---- Alertmanager's payload ----


def parse(data: bytes) -> list[Alert]:
    """The alerts of one webhook notification; PayloadError naming the field that is wrong."""
    try:
        payload = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"the body is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(payload, dict) or payload.get("version") != "4":
        raise PayloadError('not an Alertmanager webhook payload: expected a JSON object with "version": "4"')
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts: expected a list")
    return [_alert(item, f"alerts[{index}]") for index, item in enumerate(alerts)]


def _alert(item: object, where: str) -> Alert:
    if not isinstance(item, dict):
        raise PayloadError(f"{where}: expected an object")
    status = item.get("status")
    if status not in STATUSES:
        raise PayloadError(f"{where}.status: expected firing or resolved, not {printable(repr(status))[:80]}")
    labels, annotations = _names(item.get("labels"), f"{where}.labels"), _names(item.get("annotations", {}), f"{where}.annotations")
    if not labels.get("alertname"):
        raise PayloadError(f"{where}.labels.alertname: missing")
    generator = item.get("generatorURL", "")
    if not isinstance(generator, str):
        raise PayloadError(f"{where}.generatorURL: expected text")
    starts_at = _time(item.get("startsAt"), f"{where}.startsAt")
    ends_at = _time(item.get("endsAt", "0001-01-01T00:00:00Z"), f"{where}.endsAt")
    return Alert(status, labels, annotations, starts_at, ends_at if ends_at.year > 1 else None, generator)


def _names(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise PayloadError(f"{where}: expected an object of text values")
    for name in value:
        if not LABEL_NAME.fullmatch(name):
            raise PayloadError(f"{where}: {printable(repr(name))[:80]} is not a label name")
    return dict(value)


def _time(value: object, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected an RFC 3339 time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"{where}: not an RFC 3339 time: {printable(repr(value))[:80]}") from None
    if moment.tzinfo is None:
        raise PayloadError(f"{where}: the time has no offset: {printable(repr(value))[:80]}")
    return moment


# ---- GitHub ----


class GitHub(approvals.GitHub):
    """The client of `bandwidth approvals` (GITHUB_API_URL, GITHUB_TOKEN), with the writes an alert's issue needs."""

    def send(self, method: str, path: str, body: dict) -> dict:
        url = f"{self.api}{path}"
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"}
        request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers=headers, method=method)  # noqa: S310 - http(s) only, checked by approvals.GitHub
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the API URL is configuration
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise ApiError(f"{method} {url}: HTTP {exc.code} {exc.reason}", exc.code) from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise ApiError(f"{method} {url}: {exc}") from None


@dataclass
class AlertIssues:
    """The issues of one repository; `handle` one notification at a time."""

    github: GitHub
    repo: str
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, alerts: list[Alert]) -> list[str]:
        """What was done, one line per alert (for the log); ApiError when GitHub fails (the caller answers 502:
        Alertmanager sends the notification again, and what was done already is not done twice)."""
        with self._lock:
            issues = self._open_issues()
            return [self._one(alert, issues) for alert in alerts]

    def _open_issues(self) -> dict[str, dict]:
        repo = self.repo
        found: dict[str, dict] = {}
        for issue in self.github.get_all(f"/repos/{repo}/issues?state=open&labels={LABEL}"):
            match = MARKER.fullmatch(_lines(issue.get("body"))[0]) if isinstance(issue, dict) and "pull_request" not in issue else None
            if match and (match["key"] not in found or issue["number"] < found[match["key"]]["number"]):
                found[match["key"]] = issue  # the oldest, should a person have copied one
        return found

    def _one(self, alert: Alert, issues: dict[str, dict]) -> str:
        repo, issue = self.repo, issues.get(alert.key)
        if alert.status == "resolved":
            if issue is None:
                return f"{alert.key}: resolved, no open issue"
            number = issue["number"]
            self.github.send("POST", f"/repos/{repo}/issues/{number}/comments", {"body": resolved_comment(alert)})
            self.github.send("PATCH", f"/repos/{repo}/issues/{number}", {"state": "closed", "state_reason": "completed"})
            del issues[alert.key]
            return f"{alert.key}: closed #{number}"
        if issue is None:
            created = self.github.send("POST", f"/repos/{repo}/issues", {"title": title(alert), "body": body(alert), "labels": [LABEL]})
            issues[alert.key] = created
            return f"{alert.key}: opened #{created['number']}"
        number, lines = issue["number"], _lines(issue.get("body"))
        previous = lines[1].removeprefix("<!-- bandwidth-alert-state: ").removesuffix(" -->") if len(lines) > 1 else ""
        if previous == alert.state:
            return f"{alert.key}: unchanged #{number}"
        again = previous.split(" ")[0] != alert.started
        self.github.send("POST", f"/repos/{repo}/issues/{number}/comments", {"body": firing_comment(alert, again)})
        issues[alert.key] = self.github.send("PATCH", f"/repos/{repo}/issues/{number}", {"body": body(alert)})
        return f"{alert.key}: {'fired again' if again else 'changed'}, commented #{number}"


def _lines(text: object) -> list[str]:
    return (text if isinstance(text, str) else "").replace("\r\n", "\n").split("\n")


# ---- the texts (Bahasa Indonesia) ----


def title(alert: Alert) -> str:
    """The issue's title: the alert's name and where; only characters of names and ids, nothing to mention or link."""
    parts = [f"{word} {_safe(alert.labels[name])}" for name, word in TITLE_LABELS.items() if alert.labels.get(name)]
    return f"Peringatan bandwidth: {_safe(alert.name)}" + (f" ({', '.join(parts)})" if parts else "")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._:/-]", "_", text)[:60]


def body(alert: Alert) -> str:
    lines = [f"<!-- bandwidth-alert: {alert.key} -->", f"<!-- bandwidth-alert-state: {alert.state} -->"]
    lines += [f"## Peringatan bandwidth: {plain(_cut(alert.name))}", "", f"Status: **aktif** sejak {waktu(alert.starts_at)}.", ""]
    lines += _annotations(alert)
    lines += ["", "| Label | Nilai |", "|---|---|"]
    for name in sorted(alert.labels, key=lambda n: (SHOWN_FIRST.index(n) if n in SHOWN_FIRST else len(SHOWN_FIRST), n)):
        lines.append(f"| {_cell(name)} | {_cell(_label_value(name, alert.labels[name]))} |")
    if alert.generator_url:
        lines += ["", f"Sumber (Prometheus): {code_span(_cut(alert.generator_url))}"]
    lines += [
        "",
        "---",
        f"Issue ini dikelola otomatis oleh `bandwidth alert-webhook` dari Alertmanager: satu issue untuk setiap peringatan (label `{LABEL}`)."
        " Bila peringatan berbunyi lagi atau berubah, komentar ditambahkan; ketika peringatan selesai, issue ini ditutup dengan komentar."
        " Bila peringatan yang sama berbunyi lagi setelah issue ditutup, issue baru dibuka.",
    ]
    return "\n".join(lines) + "\n"


def firing_comment(alert: Alert, again: bool) -> str:
    if again:
        head = f"Peringatan {plain(_cut(alert.name))} **berbunyi lagi** sejak {waktu(alert.starts_at)}."
    else:
        head = f"Peringatan {plain(_cut(alert.name))} **berubah** (masih aktif sejak {waktu(alert.starts_at)})."
    return "\n".join([head, "", *_annotations(alert)]) + "\n"


def resolved_comment(alert: Alert) -> str:
    ended = waktu(alert.ends_at or dt.datetime.now(dt.UTC))
    return f"Peringatan {plain(_cut(alert.name))} **selesai** pada {ended}. Issue ini ditutup otomatis; bila peringatan yang sama berbunyi lagi, issue baru akan dibuka.\n"


def _annotations(alert: Alert) -> list[str]:
    lines = [f"**Ringkasan:** {plain(_cut(alert.annotations.get('summary') or '-'))}", ""]
    lines.append(f"**Keterangan:** {plain(_cut(alert.annotations.get('description') or '-'))}")
    return lines


def _label_value(name: str, value: str) -> str:
    return f"{value} ({ARAH[value]})" if name == "direction" and value in ARAH else value


def _cell(text: str) -> str:
    """A table cell: a pipe in a code span would still end the cell (GitHub's tables), so it is escaped."""
    return plain(_cut(text)).replace("|", "\\|")


def _cut(text: str) -> str:
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def waktu(moment: dt.datetime) -> str:
    """'7 Desember 2026 pukul 14.03 WITA'."""
    local = moment.astimezone(WITA)
    return f"{tanggal(local.date())} pukul {local:%H.%M} WITA"
