"""A small client of Prometheus' HTTP API (/api/v1/query, /api/v1/query_range) on the standard library.

Every failure is a UsageError naming the URL and what went wrong (no connection, an HTTP status, a timeout,
an answer that is not Prometheus', `status: error` with Prometheus' own message): the command prints it, never a
traceback. A range longer than Prometheus allows in one answer (11,000 points per series) is asked in chunks and
joined; `queries` counts the requests sent.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from bandwidth.errors import UsageError

HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")  # a name or an address; anything else is refused before a request
CHUNK_POINTS = 10_000  # one request's points per series: Prometheus refuses more than 11,000 ("exceeded maximum resolution")
MAX_ANSWER_BYTES = 512 * 2**20  # a month of 5-minute points for a few thousand series is far below this


@dataclass
class Series:
    labels: dict[str, str]
    points: list[tuple[int, float]]  # (Unix seconds, value), in time order, finite values only


def check_url(url: str) -> str:
    """The base URL of a Prometheus (http or https, a host, no credentials, no query), without its trailing slash."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if not host.endswith("]"):  # a port after the name or the [IPv6 address]
        host = host.rsplit(":", 1)[0]
    if parts.scheme not in ("http", "https") or not parts.hostname or not HOST.fullmatch(host) or re.search(r"[\x00-\x20\x7f]", url):
        raise UsageError(f"--prometheus {url!r}: expected the URL of a Prometheus, such as http://prometheus.example:9090")
    if parts.username or parts.password:
        raise UsageError("--prometheus: the URL carries credentials; put none in it (reports and logs show the URL)")
    if parts.query or parts.fragment:
        raise UsageError(f"--prometheus {url!r}: the base URL takes no query or fragment")
    try:
        parts.port  # noqa: B018  (raises on a port out of range)
    except ValueError:
        raise UsageError(f"--prometheus {url!r}: the port is not a number from 1 to 65535") from None
    return url.rstrip("/")


@dataclass
class Prometheus:
    url: str  # the base URL, checked (check_url)
    timeout: float = 30.0
    queries: int = 0  # requests sent
    warnings: list[str] = field(default_factory=list)  # what Prometheus warned about in its answers

    def query(self, expression: str, at: int) -> list[Series]:
        """An instant query evaluated at `at` (Unix seconds): one point per series."""
        data = self._get("query", {"query": expression, "time": str(at)})
        if data.get("resultType") != "vector":
            raise self._error("query", f"expected a vector, got {data.get('resultType')!r}")
        return [Series(_labels(item.get("metric")), _points([item.get("value")])) for item in _result(data)]

    def query_range(self, expression: str, start: int, end: int, step: int) -> list[Series]:
        """Points at start, start + step, ..., up to end, joined from chunks of at most CHUNK_POINTS points per request."""
        by_labels: dict[tuple, Series] = {}
        first = start
        while first <= end:
            last = min(end, first + step * (CHUNK_POINTS - 1))
            data = self._get("query_range", {"query": expression, "start": str(first), "end": str(last), "step": str(step)})
            if data.get("resultType") != "matrix":
                raise self._error("query_range", f"expected a matrix, got {data.get('resultType')!r}")
            for item in _result(data):
                labels = _labels(item.get("metric"))
                key = tuple(sorted(labels.items()))
                by_labels.setdefault(key, Series(labels, [])).points.extend(_points(item.get("values")))
            first = last + step
        return list(by_labels.values())

    # --- the HTTP exchange ------------------------------------------------------------------------------------------------

    def _error(self, endpoint: str, what: str) -> UsageError:
        return UsageError(f"Prometheus at {self.url} (/api/v1/{endpoint}): {what}")

    def _get(self, endpoint: str, params: dict[str, str]) -> dict:
        address = f"{self.url}/api/v1/{endpoint}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(address, headers={"Accept": "application/json", "User-Agent": "bandwidth-monitor"})  # noqa: S310  (check_url: http or https)
        self.queries += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310  (check_url: http or https)
                body = answer.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = _prometheus_error(exc)
            raise self._error(endpoint, f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise self._error(endpoint, f"no answer within {self.timeout:g} s") from None
            raise self._error(endpoint, f"cannot connect ({getattr(reason, 'strerror', None) or reason})") from None
        except TimeoutError:
            raise self._error(endpoint, f"no answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise self._error(endpoint, f"the connection failed ({exc.strerror or exc})") from None
        except http.client.HTTPException as exc:  # not HTTP at all, or an answer cut short
            raise self._error(endpoint, f"no valid HTTP answer ({type(exc).__name__})") from None
        if len(body) > MAX_ANSWER_BYTES:
            raise self._error(endpoint, f"the answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise self._error(endpoint, "the answer is not JSON (is this the URL of a Prometheus?)") from None
        if not isinstance(document, dict) or document.get("status") not in ("success", "error"):
            raise self._error(endpoint, "the answer is not Prometheus' (no status success or error)")
        if document["status"] == "error":
            raise self._error(endpoint, f"{document.get('errorType') or 'error'}: {document.get('error') or 'no message'}")
        self.warnings += [str(w) for w in document.get("warnings") or [] if str(w) not in self.warnings]
        data = document.get("data")
        if not isinstance(data, dict):
            raise self._error(endpoint, "the answer has no data")
        return data


def _prometheus_error(exc: urllib.error.HTTPError) -> str:
    """Prometheus answers a bad query with 400 and its JSON error: the message, when there is one."""
    try:
        document = json.loads(exc.read(65536))
    except (ValueError, UnicodeDecodeError, OSError):
        return ""
    if isinstance(document, dict) and document.get("error"):
        return f"{document.get('errorType') or 'error'}: {document['error']}"
    return ""


def _result(data: dict) -> list[dict]:
    result = data.get("result")
    return [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []


def _labels(metric) -> dict[str, str]:
    return {str(k): str(v) for k, v in metric.items()} if isinstance(metric, dict) else {}


def _points(values) -> list[tuple[int, float]]:
    """[[1700000000, "1.5"], ...] -> [(1700000000, 1.5), ...]; NaN and infinities are left out, and anything malformed."""
    if not isinstance(values, list):
        return []
    try:  # the common case at once: a month of points per series
        points = [(round(t), float(v)) for t, v in values]
    except (TypeError, ValueError):
        points = []
        for pair in values:
            try:
                t, v = pair
                points.append((round(t), float(v)))
            except (TypeError, ValueError):
                continue
    return [p for p in points if math.isfinite(p[1])]
