"""Request files come from pull requests: every hostile input is a clear error on its line."""

from __future__ import annotations

import pytest

from conftest import Repo, request_text

GOOD = request_text("BW-2026-0001", "gw-a")


def check_one(repo: Repo, content: bytes | str, name: str = "BW-2026-0002"):
    """Write a hostile file beside a valid one; the valid one must still be checked."""
    repo.write("allocations/gw-a/BW-2026-0001.yaml", GOOD)
    rel = f"allocations/gw-a/{name}.yaml"
    repo.write(rel, content)
    done = repo.check()
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr and done.stderr == ""
    assert "1 valid allocation(s)" in done.stdout  # the other file was still checked
    return rel, done.stdout


def hostile(**fields) -> str:
    return request_text("BW-2026-0002", "gw-a", **{"subnets": "[198.18.2.0/24]", **fields})


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (hostile() + "priority: 1\n", 13, "duplicate key 'priority' (first on line 10)"),
        (hostile(download="&rates {guaranteed_mbps: 1, max_mbps: 2}", upload="*rates"), 8, "anchors (&rates) are not allowed in request files"),
        (hostile(download="&rates {guaranteed_mbps: 1, max_mbps: 2}", upload="*rates"), 9, "aliases (*rates) are not allowed in request files"),
        (hostile(agency="!!python/object/apply:os.system [id]"), 2, "tags (tag:yaml.org,2002:python/object/apply:os.system) are not allowed"),
        (hostile(purpose="!custom Pengujian"), 12, "tags (!custom) are not allowed in request files"),
        (hostile(agency='"Dinas\\u0007Uji"'), 2, "agency contains the control character U+0007"),
        (hostile(agency='"Dinas \\u202eUji"'), 2, "agency contains the control character U+202E"),
        (hostile(agency='"Dinas\\nUji"'), 2, "agency must be a single line"),
        (hostile(priority="{a: 1}"), 10, "priority must be a whole number, not a mapping"),
        (hostile(subnets="198.18.2.0/24"), 7, "subnets must be a list, not a string"),
        (hostile(priority="true"), 10, "priority must be a whole number, not true/false"),
        (hostile(start="2026-12-01T10:00:00"), 11, "start is not in the expected format"),
        (hostile(download="{guaranteed_mbps: 1.0e400, max_mbps: 2}"), 8, "1.0e400 is not a finite number"),
        ("id: [unclosed\n", 2, "YAML syntax error"),
        (hostile() + "---\nid: again\n", 13, "a request file holds exactly one YAML document"),
        ("# only a comment\n", 1, "file is empty"),
        ("- a list\n", 1, "(top level) must be a mapping, not a list"),
        ("? [complex, key]\n: 1\n", 1, "mapping keys must be plain strings, not collections"),
        (hostile() + "7: seven\n", 13, "mapping keys must be plain strings"),
    ],
)
def test_hostile_yaml(repo: Repo, content, line, message):
    rel, out = check_one(repo, content)
    assert any(entry.startswith(f"{rel}:{line}: error: ") and message in entry for entry in out.splitlines()), out


def test_non_utf8_names_the_line(repo: Repo):
    rel, out = check_one(repo, hostile().encode().replace(b"Pengujian", b"Peng\xffujian"))
    assert f"{rel}:12: error: not valid UTF-8 (byte 0xff at offset" in out


def test_utf16_file(repo: Repo):
    rel, out = check_one(repo, hostile().encode("utf-16"))
    assert f"{rel}:1: error: not valid UTF-8" in out


def test_oversized_file(repo: Repo):
    rel, out = check_one(repo, hostile() + "#" * (64 * 1024) + "\n")
    assert f"{rel}:1: error: file is {len(hostile()) + 64 * 1024 + 1} bytes; the limit is 65536" in out


def test_nul_byte(repo: Repo):
    rel, out = check_one(repo, hostile().replace("Pengujian", "Peng\0ujian"))
    assert f"{rel}:12: error: unacceptable character #x0000: control characters are not allowed" in out


def test_deep_nesting_is_no_crash(repo: Repo):
    rel, out = check_one(repo, "purpose: " + "[" * 5000 + "]" * 5000 + "\n")
    assert f"{rel}:" in out


def test_billion_laughs_is_refused_without_expansion(repo: Repo):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20))
    rel, out = check_one(repo, bomb)
    assert f"{rel}:1: error: anchors (&a) are not allowed" in out


def test_control_characters_in_file_names_are_shown_escaped(repo: Repo):
    repo.write("allocations/gw-a/BW-2026-0001.yaml", GOOD)
    repo.write("allocations/gw-a/evil\n::error::x.yaml", "x")
    done = repo.check("--format", "github")
    assert "file=allocations/gw-a/evil\\u000a%3A%3Aerror%3A%3Ax.yaml,line=1," in done.stdout
    assert "\n::error::x" not in done.stdout
    text = repo.check().stdout
    assert "allocations/gw-a/evil\\u000a::error::x.yaml:1: error:" in text


def test_multiline_purpose_is_allowed(repo: Repo):
    repo.write("allocations/gw-a/BW-2026-0001.yaml", GOOD.replace("purpose: Pengujian\n", "purpose: |\n  Baris satu\n  Baris dua\n"))
    assert repo.check().returncode == 0
