"""Alertmanager's configuration from monitoring/alertmanager/alertmanager.yml.j2 and its settings.

Every alert goes by e-mail to the Kasi Infrastruktur TIK and to the technical team (each list its own
message) and to the webhook of `bandwidth alert-webhook`, which keeps one GitHub issue per alert and
closes it when the alert resolves (send_resolved). The SMTP password is never in the file: Alertmanager
reads it from `smtp_auth_password_file`. Settings are checked here, each error naming its key; the
output passes `amtool check-config`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2

from bandwidth.errors import UsageError

TEMPLATE = Path(__file__).resolve().parents[3] / "monitoring" / "alertmanager" / "alertmanager.yml.j2"

# Defaults for a gateway controller with a local mail relay (Postfix on localhost:25, no TLS, no login) and
# the webhook beside Alertmanager; a deployment gives its own addresses. Durations: Prometheus' format or seconds.
DEFAULTS: dict[str, object] = {
    "smtp_smarthost": "localhost:25",  # HOST:PORT of the mail server
    "smtp_from": "alertmanager@diskominfo.kaltimprov.go.id",
    "smtp_hello": "localhost",  # the name Alertmanager gives in EHLO
    "smtp_auth_username": "",  # empty: no SMTP login
    "smtp_auth_password_file": "",  # absolute path of a file holding the password (needed with a username)
    "smtp_require_tls": False,  # STARTTLS required: set true for any server that is not on this host
    "kasi_emails": ["kasi.infrastruktur.tik@diskominfo.kaltimprov.go.id"],  # the Kasi Infrastruktur TIK
    "technical_team_emails": ["tim.teknis.jaringan@diskominfo.kaltimprov.go.id"],  # the technical team
    "email_send_resolved": True,  # also an e-mail when an alert resolves
    "webhook_url": "http://127.0.0.1:9098/",  # `bandwidth alert-webhook --listen 127.0.0.1:9098`
    "group_wait": "30s",
    "group_interval": "5m",
    "repeat_interval": "4h",
    # The candidates (Kandidat penambahan, Kandidat pengembalian) change once a day and stay for weeks: their
    # e-mail is repeated once a week, not every repeat_interval (the issue keeps their history meanwhile).
    "candidates_repeat_interval": "168h",
    "resolve_timeout": "5m",
}

DURATION = re.compile(r"(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?")
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})")
HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
URL = re.compile(r"https?://[^\s\"'<>\\]+")


def render_alertmanager(settings: dict | None = None) -> str:
    """alertmanager.yml: DEFAULTS overridden by `settings`; UsageError naming the key of a bad or unknown setting."""
    values = _checked({**DEFAULTS, **(settings or {})}, settings or {})
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)  # noqa: S701 - YAML, not HTML: values are quoted by `quoted`
    environment.filters["quoted"] = _quoted
    environment.filters["yaml_bool"] = lambda value: "true" if value else "false"
    try:
        template = environment.from_string(TEMPLATE.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{TEMPLATE}: cannot read the template: {exc.strerror}") from None
    return template.render(**values)


def _quoted(value: object) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's): nothing in a value can end it or start a key."""
    return json.dumps(str(value))


def _checked(values: dict, given: dict) -> dict:
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise UsageError(f"alertmanager setting {unknown[0]!r}: unknown (known: {', '.join(DEFAULTS)})")
    for key in ("smtp_require_tls", "email_send_resolved"):
        if not isinstance(values[key], bool):
            raise UsageError(f"alertmanager setting {key!r}: expected true or false, not {values[key]!r}")
    for key in ("smtp_smarthost", "smtp_from", "smtp_hello", "smtp_auth_username", "smtp_auth_password_file", "webhook_url"):
        if not isinstance(values[key], str):
            raise UsageError(f"alertmanager setting {key!r}: expected text, not {values[key]!r}")
    _check_smtp(values)
    _check_login(values)
    for key in ("kasi_emails", "technical_team_emails"):
        _check_addresses(key, values[key])
    if not URL.fullmatch(values["webhook_url"]):
        raise UsageError(f"alertmanager setting 'webhook_url': expected an http(s) URL, not {values['webhook_url']!r}")
    durations = {key: _duration(key, values[key]) for key in ("group_wait", "group_interval", "repeat_interval", "candidates_repeat_interval", "resolve_timeout")}
    return {**values, **durations}


def _check_smtp(values: dict) -> None:
    match = HOST_PORT.fullmatch(values["smtp_smarthost"])
    if not match or not 0 < int(match["port"]) < 65536:
        raise UsageError(f"alertmanager setting 'smtp_smarthost': expected HOST:PORT, not {values['smtp_smarthost']!r}")
    if not EMAIL.fullmatch(values["smtp_from"]):
        raise UsageError(f"alertmanager setting 'smtp_from': not an e-mail address: {values['smtp_from']!r}")
    if not HOSTNAME.fullmatch(values["smtp_hello"]):
        raise UsageError(f"alertmanager setting 'smtp_hello': not a host name: {values['smtp_hello']!r}")


def _check_addresses(key: str, addresses: object) -> None:
    if isinstance(addresses, str) or not isinstance(addresses, (list, tuple)) or not addresses:
        raise UsageError(f"alertmanager setting {key!r}: expected a non-empty list of e-mail addresses, not {addresses!r}")
    for address in addresses:
        if not isinstance(address, str) or not EMAIL.fullmatch(address):
            raise UsageError(f"alertmanager setting {key!r}: not an e-mail address: {address!r}")


def _check_login(values: dict) -> None:
    user, password_file = values["smtp_auth_username"], values["smtp_auth_password_file"]
    if any(ch.isspace() or not ch.isprintable() for ch in user):
        raise UsageError(f"alertmanager setting 'smtp_auth_username': spaces or control characters in {user!r}")
    if user and not password_file:
        raise UsageError("alertmanager setting 'smtp_auth_password_file': required with smtp_auth_username (the path of a file holding the password; never the password itself)")
    if password_file and not user:
        raise UsageError("alertmanager setting 'smtp_auth_username': required with smtp_auth_password_file")
    if password_file and (not Path(password_file).is_absolute() or not password_file.isprintable()):
        raise UsageError(f"alertmanager setting 'smtp_auth_password_file': expected an absolute path, not {password_file!r}")


def _duration(key: str, value: object) -> str:
    """A Prometheus duration ("30s", "1h30m"); an integer is seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise UsageError(f"alertmanager setting {key!r}: expected a positive duration, not {value!r}")
        return f"{value}s"
    if not isinstance(value, str) or not value or not DURATION.fullmatch(value) or not re.search(r"[1-9]", value):
        raise UsageError(f"alertmanager setting {key!r}: expected a duration such as 30s, 5m or 4h (or whole seconds), not {value!r}")
    return value
