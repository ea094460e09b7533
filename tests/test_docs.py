"""The guides and the documentation: every link and picture is there, and every command in a guide runs.

The guides' commands (the ```sh blocks of docs/panduan/*.md) run as written, one after the other, with the
repository's venv on PATH: the requester's and the auditor's in a clone of this repository (its history, and an
origin holding refs/notes/bandwidth to fetch), the technical team's on a lab of their own (`-m lab`).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BANDWIDTH, ROOT

GUIDES = ROOT / "docs" / "panduan"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def commands(guide: str) -> list[str]:
    """The command lines of the guide's ```sh blocks, in order."""
    text = (GUIDES / guide).read_text(encoding="utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def run_all(lines: list[str], cwd: Path) -> None:
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}", "ANSIBLE_NOCOLOR": "1"}
    for line in lines:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=cwd, capture_output=True, text=True, env=env, timeout=900, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, f"{line}\n{done.stderr[-3000:]}"


def clone(tmp_path: Path) -> Path:
    """A clone of this repository whose origin holds a note under refs/notes/bandwidth (fetched as the auditor's guide says)."""
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(ROOT), str(origin)], check=True, timeout=120)
    subprocess.run(["git", "-C", str(origin), "notes", "--ref=bandwidth", "add", "-m", "Bandwidth-Pull-Request: 1", "HEAD"], check=True, timeout=60,
                   env={**os.environ, "GIT_COMMITTER_NAME": "Uji", "GIT_COMMITTER_EMAIL": "uji@example.go.id"})  # fmt: skip
    subprocess.run(["git", "clone", "--quiet", str(origin), str(work)], check=True, timeout=120)
    (work / ".venv").symlink_to(ROOT / ".venv")  # the playbooks run the repository's own venv, as after `make setup`
    return work


def test_every_guide_is_there_with_commands_where_a_person_types_them():
    assert sorted(p.name for p in GUIDES.glob("*.md")) == ["auditor.md", "pejabat.md", "pemohon.md", "tim-teknis.md"]
    assert commands("pemohon.md") and commands("auditor.md") and commands("tim-teknis.md")
    assert commands("pejabat.md") == []  # the officials work on GitHub's pages only


@pytest.mark.parametrize("document", sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md"]), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_picture_points_at_a_file_that_is_there(document: Path):
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+://", target) or target.startswith("#"):
            continue
        assert (document.parent / target.split("#")[0]).resolve().exists(), f"{document.relative_to(ROOT)}: {target}"


def test_the_requesters_and_the_auditors_commands_run(tmp_path: Path):
    work = clone(tmp_path)
    run_all(commands("pemohon.md"), work)
    assert list(work.glob("allocations/gw-samarinda/BW-*.yaml"))  # `bandwidth new` wrote its file, and the check passed
    run_all(commands("auditor.md"), work)
    assert (work / "audit.csv").read_text(encoding="utf-8").startswith("date,id,action,")
    assert "<h1>Daftar Kesediaan Bandwidth</h1>" in (work / "daftar-kesediaan.html").read_text(encoding="utf-8")


@pytest.mark.lab
def test_the_technical_teams_commands_run_on_a_lab(tmp_path: Path):
    work = clone(tmp_path)
    try:
        run_all(commands("tim-teknis.md"), work)
    finally:
        subprocess.run([BANDWIDTH, "lab", "down"], cwd=work, capture_output=True, timeout=300, check=False)
