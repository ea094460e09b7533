"""Alerting: Alertmanager's configuration (rendered, held to amtool and to the real Alertmanager) and
`bandwidth alert-webhook`, which keeps one GitHub issue per alert, against the fake GitHub.

The webhook runs as the CLI does in production (a subprocess on 127.0.0.1, port chosen by the OS); the
fake GitHub holds every call to GitHub's published description (tests/githubcontract.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from bandwidth.errors import UsageError
from bandwidth.monitoring.alertmanager import DEFAULTS, render_alertmanager
from conftest import BANDWIDTH, ROOT, free_port, stop_process
from fakegithub import FakeGitHub

AMTOOL, ALERTMANAGER = "/usr/bin/amtool", "/usr/bin/prometheus-alertmanager"
YAMLLINT = str(Path(BANDWIDTH).with_name("yamllint"))
LABEL = "peringatan-bandwidth"
MARKER = re.compile(r"<!-- bandwidth-alert: (?P<key>\S+) -->")
KASI, TIM = "kasi.tik@diskominfo.example.go.id", "tim.teknis@diskominfo.example.go.id"
HOSTILE_AGENCY = "Dinas `Uji` <b>tebal</b> @kasi-1 [klik](https://evil.example/x)\nRingkasan  : semua aman\n<!-- bandwidth-alert: X/0123456789abcdef --> #1 &amp;"


# ---- helpers ----


def labels(alertname: str = "BandwidthShapingHilang", **extra: str) -> dict:
    return {"alertname": alertname, "severity": "critical", "gateway": "gw-a", **extra}


def alert(status: str = "firing", starts: str = "2026-12-07T06:00:00Z", ends: str = "0001-01-01T00:00:00Z", summary: str = "Shaping gw-a tidak sesuai rencana", **label_values) -> dict:
    return {
        "status": status, "labels": label_values or labels(), "startsAt": starts, "endsAt": ends, "fingerprint": "0123456789abcdef",
        "annotations": {"summary": summary, "description": "Kelas HTB pada gateway gw-a tidak sama dengan rencana selama 15 menit."},
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=bandwidth_shaping_matches_plan+%3D%3D+0",
    }  # fmt: skip


def notification(*alerts: dict) -> dict:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4", "groupKey": "{}:{alertname=\"x\"}", "truncatedAlerts": 0, "status": status, "receiver": "github-issue",
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": list(alerts),
    }  # fmt: skip


def key(label_values: dict) -> str:
    """The documented identity of an alert: alertname / 16 hex digits of sha256 over its labels (JSON, keys sorted)."""
    return f"{label_values['alertname']}/" + hashlib.sha256(json.dumps(label_values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def post(url: str, payload, method: str = "POST") -> tuple[int, str]:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data if method == "POST" else None, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def issues(github: FakeGitHub) -> list[dict]:
    return [issue for _number, issue in sorted(github.issues.items()) if "pull_request" not in issue]


def comments(github: FakeGitHub, number: int) -> list[str]:
    return [c["body"] for c in sorted(github.comments_on(number), key=lambda c: c["id"])]


def ready(url: str) -> bool:
    try:
        return post(url, None, method="GET")[0] == 200
    except urllib.error.URLError:  # not listening yet
        return False


def wait_for(condition, timeout: float, what: str, logs=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    shown = "\n".join(f"--- {Path(p).name}:\n{Path(p).read_text(errors='replace')[-3000:]}" for p in logs if Path(p).exists())
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{shown}")


class Webhook:
    """`bandwidth alert-webhook` as a subprocess on 127.0.0.1 (port 0: the one it prints)."""

    def __init__(self, github: FakeGitHub, log: Path, token: str | None = None):
        self.log = log
        env = {**os.environ, "GITHUB_API_URL": github.api_url, "GITHUB_TOKEN": token or github.token, "GITHUB_REPOSITORY": github.repository}
        with log.open("wb") as sink:
            self.process = subprocess.Popen([BANDWIDTH, "alert-webhook", "--listen", "127.0.0.1:0"], env=env, stdout=sink, stderr=subprocess.STDOUT)
        found: list[str] = []
        wait_for(lambda: self.process.poll() is not None or found.extend(re.findall(r"listening on (http://127\.0\.0\.1:\d+/)", self.text())) or found, 20, "the webhook to listen", [log])
        assert found, self.text()
        self.url = found[0]

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def github(tmp_path: Path):
    fake = FakeGitHub(tmp_path / "github")
    try:
        yield fake
        assert not fake.violations, fake.violations  # every call and answer held to GitHub's description
    finally:
        fake.close()


@pytest.fixture
def webhook(github: FakeGitHub, tmp_path: Path):
    receiver = Webhook(github, tmp_path / "webhook.log")
    try:
        yield receiver
    finally:
        stop_process(receiver.process)
    assert "Traceback" not in receiver.text()


def rendered_html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def outside_code(html: str) -> str:
    return re.sub(r"<code>.*?</code>", "", html, flags=re.S)


# ---- Alertmanager's configuration ----


def amtool_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True, text=True, timeout=60, check=False)


def test_the_default_configuration_passes_amtool_and_routes_every_alert_to_email_and_the_webhook(tmp_path: Path):
    config = tmp_path / "alertmanager.yml"
    config.write_text(render_alertmanager(), encoding="utf-8")
    checked = amtool_check(config)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    doc = yaml.safe_load(config.read_text())
    route = doc["route"]
    assert route["receiver"] == "email" and [r["receiver"] for r in route["routes"]] == ["github-issue", "email", "email"]
    assert route["routes"][0] == {"receiver": "github-issue", "group_by": ["..."], "continue": True}  # no matcher: every alert
    receivers = {r["name"]: r for r in doc["receivers"]}
    assert receivers["github-issue"]["webhook_configs"] == [{"url": DEFAULTS["webhook_url"], "send_resolved": True, "max_alerts": 0}]
    emails = receivers["email"]["email_configs"]
    assert [e["to"] for e in emails] == [*DEFAULTS["kasi_emails"], *DEFAULTS["technical_team_emails"]]
    assert all("Peringatan" in e["headers"]["Subject"] and "Ringkasan" in e["text"] and e["html"] == "" for e in emails)
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("30s", "5m", "4h")
    assert "smtp_auth_username" not in doc["global"]  # a local relay: no login
    linted = subprocess.run([YAMLLINT, "--strict", "-c", str(ROOT / ".yamllint.yml"), str(config)], capture_output=True, text=True, timeout=60, check=False)
    assert linted.returncode == 0, linted.stdout  # the file a person reads on the server is tidy too


@pytest.mark.parametrize(
    ("alertname", "repeat"),
    [("BandwidthKandidatPenambahan", "168h"), ("BandwidthKandidatPengembalian", "168h"), ("BandwidthShapingHilang", "4h"), ("BandwidthCollectorDown", "4h")],
)
def test_a_candidates_e_mail_is_repeated_weekly_every_other_alert_as_set(tmp_path: Path, alertname: str, repeat: str):
    """Routed as Alertmanager routes it (amtool config routes test): to the webhook and by e-mail, each candidate's e-mail
    repeated once a week while it stays (weeks), the others every repeat_interval."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(render_alertmanager(), encoding="utf-8")
    routed = subprocess.run(
        [AMTOOL, "config", "routes", "test", f"--config.file={config}", "--verify.receivers=github-issue,email", f"alertname={alertname}", "gateway=gw-a"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert routed.returncode == 0, routed.stdout + routed.stderr
    email = next(r for r in yaml.safe_load(config.read_text())["route"]["routes"][1:] if not r.get("matchers") or alertname.startswith("BandwidthKandidat"))
    assert email.get("repeat_interval", "4h") == repeat


def test_the_smtp_password_is_read_from_a_file_never_written_into_the_configuration(tmp_path: Path):
    secret = tmp_path / "smtp-password"
    secret.write_text("rahasia-sekali\n")
    settings = {
        "smtp_smarthost": "smtp.example.go.id:587", "smtp_require_tls": True, "smtp_auth_username": "alertmanager", "smtp_auth_password_file": str(secret),
        "kasi_emails": [KASI, "kasi.wakil@diskominfo.example.go.id"], "technical_team_emails": [TIM], "group_wait": 2, "repeat_interval": "1h30m",
    }  # fmt: skip
    config = tmp_path / "alertmanager.yml"
    config.write_text(render_alertmanager(settings), encoding="utf-8")
    assert amtool_check(config).returncode == 0, amtool_check(config).stdout
    doc = yaml.safe_load(config.read_text())
    assert doc["global"]["smtp_auth_password_file"] == str(secret) and doc["global"]["smtp_require_tls"] is True
    assert "rahasia" not in config.read_text()
    assert doc["route"]["group_wait"] == "2s" and doc["route"]["repeat_interval"] == "1h30m"
    assert doc["receivers"][1]["email_configs"][0]["to"] == f"{KASI}, kasi.wakil@diskominfo.example.go.id"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"smtp_host": "x"}, "alertmanager setting 'smtp_host': unknown (known: smtp_smarthost,"),
        ({"smtp_smarthost": "smtp.example.go.id"}, "alertmanager setting 'smtp_smarthost': expected HOST:PORT, not 'smtp.example.go.id'"),
        ({"smtp_smarthost": "smtp.example.go.id:99999"}, "alertmanager setting 'smtp_smarthost': expected HOST:PORT"),
        ({"smtp_from": "alertmanager"}, "alertmanager setting 'smtp_from': not an e-mail address: 'alertmanager'"),
        ({"smtp_require_tls": "yes"}, "alertmanager setting 'smtp_require_tls': expected true or false, not 'yes'"),
        ({"smtp_auth_username": "am"}, "alertmanager setting 'smtp_auth_password_file': required with smtp_auth_username"),
        ({"smtp_auth_username": "am", "smtp_auth_password_file": "secret.txt"}, "alertmanager setting 'smtp_auth_password_file': expected an absolute path, not 'secret.txt'"),
        ({"smtp_auth_password_file": "/etc/alertmanager/smtp"}, "alertmanager setting 'smtp_auth_username': required with smtp_auth_password_file"),
        ({"kasi_emails": []}, "alertmanager setting 'kasi_emails': expected a non-empty list of e-mail addresses, not []"),
        ({"kasi_emails": KASI}, "alertmanager setting 'kasi_emails': expected a non-empty list of e-mail addresses"),
        ({"technical_team_emails": ["tim@x.go.id\nBcc: a@evil.example"]}, "alertmanager setting 'technical_team_emails': not an e-mail address"),
        ({"webhook_url": "ftp://127.0.0.1/"}, "alertmanager setting 'webhook_url': expected an http(s) URL, not 'ftp://127.0.0.1/'"),
        ({"webhook_url": 'http://x/" \nroute: {}'}, "alertmanager setting 'webhook_url': expected an http(s) URL"),
        ({"group_wait": "30 s"}, "alertmanager setting 'group_wait': expected a duration such as 30s, 5m or 4h (or whole seconds), not '30 s'"),
        ({"group_interval": 0}, "alertmanager setting 'group_interval': expected a positive duration, not 0"),
        ({"repeat_interval": ""}, "alertmanager setting 'repeat_interval': expected a duration"),
    ],
)
def test_a_bad_setting_is_named(settings, message):
    with pytest.raises(UsageError) as raised:
        render_alertmanager(settings)
    assert str(raised.value).startswith(message), str(raised.value)


# ---- the webhook against the fake GitHub ----


def test_a_firing_alert_opens_one_issue_and_a_repeat_adds_nothing(github: FakeGitHub, webhook: Webhook):
    status, text = post(webhook.url, notification(alert()))
    assert status == 200, text
    [issue] = issues(github)
    assert issue["state"] == "open" and [label["name"] for label in issue["labels"]] == [LABEL]
    assert issue["title"] == "Peringatan bandwidth: BandwidthShapingHilang (gateway gw-a)"
    lines = issue["body"].split("\n")
    assert lines[0] == f"<!-- bandwidth-alert: {key(labels())} -->" and lines[1].startswith("<!-- bandwidth-alert-state: 2026-12-07T06:00:00Z ")
    assert "Status: **aktif** sejak 7 Desember 2026 pukul 14.00 WITA." in issue["body"]  # 06:00 UTC is 14:00 WITA
    assert "**Ringkasan:** Shaping gw-a tidak sesuai rencana" in issue["body"] and "| severity | critical |" in issue["body"]
    # Alertmanager repeats a firing alert every repeat_interval: the same state adds nothing.
    assert post(webhook.url, notification(alert()))[0] == 200
    assert len(issues(github)) == 1 and comments(github, issue["number"]) == []
    assert f"{key(labels())}: unchanged #{issue['number']}" in webhook.text()
    # Another alert (other labels) is another issue.
    assert post(webhook.url, notification(alert(**labels(gateway="gw-b"))))[0] == 200
    assert [i["title"] for i in issues(github)] == [issue["title"], "Peringatan bandwidth: BandwidthShapingHilang (gateway gw-b)"]


def test_a_change_and_a_new_firing_are_comments_on_the_same_issue(github: FakeGitHub, webhook: Webhook):
    assert post(webhook.url, notification(alert()))[0] == 200
    [issue] = issues(github)
    assert post(webhook.url, notification(alert(summary="Shaping gw-a hilang seluruhnya")))[0] == 200
    assert post(webhook.url, notification(alert(summary="Shaping gw-a hilang seluruhnya", starts="2026-12-08T01:30:00Z")))[0] == 200
    assert len(issues(github)) == 1
    changed, again = comments(github, issue["number"])
    assert changed.startswith("Peringatan BandwidthShapingHilang **berubah** (masih aktif sejak 7 Desember 2026 pukul 14.00 WITA).")
    assert "**Ringkasan:** Shaping gw-a hilang seluruhnya" in changed
    assert again.startswith("Peringatan BandwidthShapingHilang **berbunyi lagi** sejak 8 Desember 2026 pukul 09.30 WITA.")
    body = github.issues[issue["number"]]["body"]  # the body says what is true now
    assert "<!-- bandwidth-alert-state: 2026-12-08T01:30:00Z " in body and "Shaping gw-a hilang seluruhnya" in body


def test_two_notifications_at_once_open_one_issue(github: FakeGitHub, webhook: Webhook):
    github.latency = 0.3  # each GitHub call takes 0.3 s: without serializing, both would list no issue and open one each
    answers: list[int] = []
    senders = [threading.Thread(target=lambda: answers.append(post(webhook.url, notification(alert()))[0])) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=30)
    assert answers == [200, 200]
    assert len(issues(github)) == 1, [i["title"] for i in issues(github)]
    assert comments(github, issues(github)[0]["number"]) == []


def test_resolved_closes_the_issue_with_a_comment_and_a_new_firing_opens_a_new_issue(github: FakeGitHub, webhook: Webhook):
    assert post(webhook.url, notification(alert()))[0] == 200
    [first] = issues(github)
    assert post(webhook.url, notification(alert("resolved", ends="2026-12-07T07:15:00Z")))[0] == 200
    closed = github.issues[first["number"]]
    assert (closed["state"], closed["state_reason"]) == ("closed", "completed")
    assert comments(github, first["number"]) == [
        "Peringatan BandwidthShapingHilang **selesai** pada 7 Desember 2026 pukul 15.15 WITA. Issue ini ditutup otomatis; bila peringatan yang sama berbunyi lagi, issue baru akan dibuka.\n"
    ]
    # Alertmanager may send the resolution again: nothing more to do.
    assert post(webhook.url, notification(alert("resolved", ends="2026-12-07T07:15:00Z")))[0] == 200
    assert len(comments(github, first["number"])) == 1 and len(issues(github)) == 1
    # The same alert fires again later: a new issue (the closed one is the history of the first episode).
    assert post(webhook.url, notification(alert(starts="2026-12-09T00:00:00Z")))[0] == 200
    first_again, second = issues(github)
    assert first_again["state"] == "closed" and second["state"] == "open" and second["number"] != first["number"]
    assert second["body"].split("\n")[0] == first["body"].split("\n")[0]  # the same alert, the same marker


def test_hostile_label_and_annotation_text_is_shown_literally(github: FakeGitHub, webhook: Webhook):
    hostile = labels("BandwidthKandidatPenambahan", allocation="BW-2026-0007", agency=HOSTILE_AGENCY, direction="download")
    other = labels()  # its marker is forged in the hostile agency's text below
    forged = {**hostile, "agency": HOSTILE_AGENCY.replace("X/0123456789abcdef", key(other))}
    payload = alert(summary=f"Instansi {forged['agency']} memakai >= 90 % @tim-teknis", **forged)
    assert post(webhook.url, notification(payload))[0] == 200
    [issue] = issues(github)
    assert issue["title"] == "Peringatan bandwidth: BandwidthKandidatPenambahan (gateway gw-a, alokasi BW-2026-0007, arah download)"  # no agency text
    html = rendered_html(issue["body"])
    assert "<a " not in html and "<b>" not in html
    assert "@" not in outside_code(html)  # no mention: every @ is inside a code span
    assert html.count("<!--") == 2 and html.startswith(f"<!-- bandwidth-alert: {key(forged)} -->\n<!-- bandwidth-alert-state: ")  # only the two markers
    flat = " ".join(forged["agency"].replace("\n", "\\u000a").split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f"<code>{flat}</code>" in html  # shown as it is, on one line (a newline as a visible \\u000a)
    assert html.count("<tr>") == 7  # the header row and one per label: no cell broken by the text
    # The forged marker does not make the hostile alert's issue the other alert's: it opens its own.
    assert post(webhook.url, notification(alert(**other)))[0] == 200
    assert [MARKER.match(i["body"])["key"] for i in issues(github)] == [key(forged), key(other)]
    # Its comments are escaped alike.
    assert post(webhook.url, notification(alert(summary=f"@kasi-1 [x](https://evil.example) {HOSTILE_AGENCY}", starts="2026-12-07T09:00:00Z", **forged)))[0] == 200
    [comment] = comments(github, issue["number"])
    assert "@" not in outside_code(rendered_html(comment)) and "<a " not in rendered_html(comment) and "<!--" not in rendered_html(comment)


BAD_PAYLOADS = [
    (b"{not json", "bad request: the body is not JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
    (b"\xff\xfe", "bad request: the body is not UTF-8"),
    (b"[1, 2]", 'bad request: not an Alertmanager webhook payload: expected a JSON object with "version": "4"'),
    (json.dumps({**notification(alert()), "version": "3"}).encode(), 'bad request: not an Alertmanager webhook payload: expected a JSON object with "version": "4"'),
    (json.dumps({"version": "4", "alerts": {}}).encode(), "bad request: alerts: expected a list"),
    (json.dumps(notification({**alert(), "status": "pending"})).encode(), "bad request: alerts[0].status: expected firing or resolved, not 'pending'"),
    (json.dumps(notification({**alert(), "labels": {"severity": "critical"}})).encode(), "bad request: alerts[0].labels.alertname: missing"),
    (json.dumps(notification({**alert(), "labels": {"alertname": "X", "bad name": "y"}})).encode(), "bad request: alerts[0].labels: 'bad name' is not a label name"),
    (json.dumps(notification(alert(), {**alert(), "annotations": {"summary": 5}})).encode(), "bad request: alerts[1].annotations: expected an object of text values"),
    (json.dumps(notification({**alert(), "startsAt": "kemarin"})).encode(), "bad request: alerts[0].startsAt: not an RFC 3339 time: 'kemarin'"),
]


def test_a_payload_that_is_not_alertmanagers_is_400_with_a_message(github: FakeGitHub, webhook: Webhook):
    for body, message in BAD_PAYLOADS:  # one webhook for all: a process each would cost a second apiece
        status, text = post(webhook.url, body)
        assert (status, text.strip()) == (400, message)
        assert f"POST / -> 400: {message}" in webhook.text()
    assert issues(github) == [] and github.calls == []  # GitHub was not asked


def test_other_requests_and_a_github_failure(github: FakeGitHub, webhook: Webhook, tmp_path: Path):
    assert post(webhook.url, None, method="GET")[0] == 405
    assert post(webhook.url + "alerts", notification(alert()))[0] == 404
    # GitHub refuses the token: 502, so that Alertmanager sends the notification again; nothing written.
    refused = Webhook(github, tmp_path / "refused.log", token="ghs_wrong")
    try:
        status, text = post(refused.url, notification(alert()))
    finally:
        stop_process(refused.process)
    assert status == 502 and text.startswith(f"GitHub failed: GET {github.api_url}/repos/{github.repository}/issues?state=open&labels={LABEL}&per_page=100: HTTP 404"), text
    assert "-> 502: GitHub failed" in refused.text() and "Traceback" not in refused.text()
    assert issues(github) == []
    # The same notification once GitHub answers: done.
    assert post(webhook.url, notification(alert()))[0] == 200 and len(issues(github)) == 1


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--listen", "127.0.0.1:0"], {"GITHUB_TOKEN": ""}, "bandwidth: error: GITHUB_TOKEN is not set: the webhook writes issues"),
        (["--listen", "127.0.0.1"], {}, "bandwidth: error: --listen '127.0.0.1': expected HOST:PORT, e.g. 127.0.0.1:9098"),
        (["--listen", "127.0.0.1:0"], {"GITHUB_REPOSITORY": ""}, "bandwidth: error: --github-repo OWNER/NAME is required"),
        (["--listen", "127.0.0.1:0", "--github-repo", "a/b/c"], {}, "bandwidth: error: --github-repo 'a/b/c': expected OWNER/NAME"),
        (["--listen", "127.0.0.1:0"], {"GITHUB_API_URL": "file:///etc"}, "bandwidth: error: GITHUB_API_URL 'file:///etc': not an http(s) URL"),
    ],
)
def test_the_webhook_does_not_start_without_what_it_needs(argv, env, message):
    environment = {**os.environ, "GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "pemprov-kaltim/bandwidth", "GITHUB_API_URL": "http://127.0.0.1:9", **env}
    done = subprocess.run([BANDWIDTH, "alert-webhook", *argv], env=environment, capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stderr.strip()) == (2, message)


# ---- end to end: the real Alertmanager, an SMTP sink and the webhook ----


class Sink:
    """An SMTP server on 127.0.0.1 that wants a login and keeps what it is sent."""

    def __init__(self, login: str, password: str):
        self.messages: list[tuple[list[str], object]] = []
        self.logins: list[tuple[str, bool]] = []
        self.login, self.password = login, password

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = (login, password) == (self.login, self.password)
        self.logins.append((login, ok))
        return AuthResult(success=ok)

    def to(self, address: str) -> list:
        return [message for recipients, message in self.messages if address in recipients]


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    sink = Sink("alertmanager", "sandi-uji-123")
    # PLAIN only: Alertmanager's LOGIN wants the challenges "Username:"/"Password:", aiosmtpd sends "User Name". On
    # 127.0.0.1 Go's PLAIN needs no TLS; a server anywhere else is reached with smtp_require_tls.
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), authenticator=sink.authenticate, auth_required=True, auth_require_tls=False, auth_exclude_mechanism=["LOGIN"])
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_alertmanager_mails_the_kasi_and_the_technical_team_and_the_issue_opens_and_closes(github: FakeGitHub, webhook: Webhook, smtp_sink, tmp_path: Path):
    sink, smtp_port = smtp_sink
    password = tmp_path / "smtp-password"
    password.write_text("sandi-uji-123")  # no line end: Alertmanager 0.25 sends the file's bytes as they are
    settings = {
        "smtp_smarthost": f"127.0.0.1:{smtp_port}", "smtp_from": "alertmanager@diskominfo.example.go.id", "smtp_require_tls": False,
        "smtp_auth_username": "alertmanager", "smtp_auth_password_file": str(password), "kasi_emails": [KASI], "technical_team_emails": [TIM],
        "webhook_url": webhook.url, "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h", "resolve_timeout": "1m",
    }  # fmt: skip
    config = tmp_path / "alertmanager.yml"
    config.write_text(render_alertmanager(settings), encoding="utf-8")
    port, log = free_port(), tmp_path / "alertmanager.log"
    api = f"http://127.0.0.1:{port}"
    argv = [ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]
    with log.open("wb") as output:
        alertmanager = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
    logs = [log, webhook.log]
    try:
        wait_for(lambda: alertmanager.poll() is not None or ready(f"{api}/-/ready"), 15, "Alertmanager to be ready", logs)
        assert alertmanager.poll() is None, log.read_text()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        hostile = labels("BandwidthShapingHilang", allocation="BW-2026-0003", agency="Dinas Uji\nRingkasan  : semua aman", direction="upload")
        firing = {
            "labels": hostile, "startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=10)).isoformat(),
            "annotations": {"summary": "Shaping gw-a tidak sesuai rencana", "description": "Kelas HTB pada gateway gw-a berbeda dari rencana selama 15 menit."},
        }  # fmt: skip
        assert post(f"{api}/api/v2/alerts", [firing])[0] == 200

        wait_for(lambda: sink.to(KASI) and sink.to(TIM) and issues(github), 15, "the e-mails and the issue", logs)
        [issue] = issues(github)
        assert issue["state"] == "open" and issue["body"].startswith(f"<!-- bandwidth-alert: {key(hostile)} -->\n")
        for address in (KASI, TIM):
            [message] = sink.to(address)
            assert message["Subject"] == "[Bandwidth Pemprov Kaltim] Peringatan aktif: BandwidthShapingHilang di gateway gw-a (1 peringatan)"
            assert message["From"] == "alertmanager@diskominfo.example.go.id" and message["To"] == address
            text = message.get_body(("plain",)).get_content()
            assert "Peringatan bandwidth Pemprov Kaltim AKTIF." in text and "Ringkasan  : Shaping gw-a tidak sesuai rencana" in text
            assert "Alokasi    : BW-2026-0003" in text and "Arah       : unggah (upload)" in text
            assert "Instansi   : Dinas Uji Ringkasan  : semua aman" in text  # the agency's newline forges no line
            local = now.astimezone(dt.timezone(dt.timedelta(hours=8)))
            assert f"Mulai      : {local:%d-%m-%Y %H:%M:%S} WITA" in text
        assert sink.logins and all(ok for _login, ok in sink.logins)  # the password came from the file

        resolved = {**firing, "endsAt": max(dt.datetime.now(dt.UTC), now + dt.timedelta(seconds=1)).isoformat()}  # after its start
        assert post(f"{api}/api/v2/alerts", [resolved])[0] == 200
        wait_for(lambda: github.issues[issue["number"]]["state"] == "closed" and len(sink.to(KASI)) == 2 and len(sink.to(TIM)) == 2, 15, "the issue to close", logs)
        [comment] = comments(github, issue["number"])
        assert "**selesai**" in comment and len(issues(github)) == 1
        assert sink.to(KASI)[1]["Subject"].startswith("[Bandwidth Pemprov Kaltim] Peringatan selesai: BandwidthShapingHilang")
        assert "telah SELESAI" in sink.to(TIM)[1].get_body(("plain",)).get_content()
    finally:
        stop_process(alertmanager)
    assert "level=error" not in log.read_text(), log.read_text()
