"""The availability form (--summary) and --base: what a pull request adds, changes, removes."""

from __future__ import annotations

from conftest import Repo


def summary(repo: Repo, *args: str) -> tuple[int, str]:
    done = repo.check("--summary", "form.md", *args)
    return done.returncode, (repo.path / "form.md").read_text(encoding="utf-8")


def test_form_in_bahasa_with_a_table_per_uplink(repo: Repo):
    repo.request("BW-2026-0001", download="{guaranteed_mbps: 12.5, max_mbps: 20}")
    code, form = summary(repo)
    assert code == 0
    assert "## Form Laporan Pengecekan Kesediaan Bandwidth" in form
    assert "Tanggal pengecekan: 28 November 2026" in form
    assert "**Hasil: bandwidth tersedia.**" in form
    assert "#### gw-a / isp-a" in form and "#### gw-a / isp-b" in form and "#### gw-b / isp-a" in form
    assert "| Arah | Kapasitas | Cadangan | Teralokasi | Diminta | Sisa | Status |" in form
    # 100 capacity, 10 reserve, 12.5 allocated -> 77.5 left, in Indonesian notation.
    assert "| Unduh | 100 | 10 (10%) | 12,5 | - | 77,5 | Tersedia |" in form


def test_form_when_bandwidth_is_not_available(repo: Repo):
    repo.git("init", "-q")
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]", download="{guaranteed_mbps: 70, max_mbps: 80}")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "base")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 30, max_mbps: 80}")
    code, form = summary(repo, "--base", "HEAD")
    assert code == 1
    assert "**Hasil: bandwidth tidak tersedia.**" in form
    assert "| Unduh | 100 | 10 (10%) | 70 | 30 | 0 | Tidak tersedia |" in form
    assert "- Unduh: kekurangan 10 Mbit/s; yang masih tersedia untuk permohonan ini 20 Mbit/s." in form
    # Only the uplink the change touches is shown, and only the new request is listed.
    assert "gw-a / isp-b" not in form
    assert "| BW\\-2026\\-0002 |" not in form and "| BW-2026-0002 |" in form
    assert "| BW-2026-0001 |" not in form


def test_base_marks_added_changed_and_removed(repo: Repo):
    repo.git("init", "-q")
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]")
    repo.request("BW-2026-0003", subnets="[198.18.3.0/24]")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "base")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 15, max_mbps: 20}")
    (repo.path / "allocations/gw-a/BW-2026-0003.yaml").unlink()
    repo.request("BW-2026-0004", subnets="[198.18.4.0/24]")
    import json

    document = json.loads(repo.check("--format", "json", "--base", "HEAD").stdout)
    assert {a["id"]: a["change"] for a in document["allocations"]} == {"BW-2026-0001": None, "BW-2026-0002": "changed", "BW-2026-0004": "added"}
    assert document["removed"] == ["allocations/gw-a/BW-2026-0003.yaml"]
    _code, form = summary(repo, "--base", "HEAD")
    assert "Memenuhi syarat (perubahan)" in form
    assert "Alokasi yang dihapus: `allocations/gw-a/BW-2026-0003.yaml`" in form


def test_capacity_error_blames_the_new_request_with_base(repo: Repo):
    repo.git("init", "-q")
    repo.request("BW-2026-0005", subnets="[198.18.1.0/24]", download="{guaranteed_mbps: 70, max_mbps: 80}")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "base")
    new = repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 30, max_mbps: 80}")
    out = repo.check("--base", "HEAD").stdout
    assert f"{new}:8: error: download capacity of gw-a/isp-a exceeded" in out
    assert "BW-2026-0005.yaml:8: error" not in out


def test_bad_base_is_a_usage_error(repo: Repo):
    repo.git("init", "-q")
    done = repo.check("--base", "no-such-ref")
    assert done.returncode == 2
    assert done.stderr.startswith("bandwidth: error: --base no-such-ref:")


def test_hostile_text_is_escaped_in_the_form(repo: Repo):
    repo.request("BW-2026-0001", agency='"<script>alert(1)</script> **tebal** [tautan](http://x) @octocat | pipa"')
    _code, form = summary(repo)
    row = next(line for line in form.splitlines() if line.startswith("| BW-2026-0001"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert "<script>" not in form
    assert "\\*\\*tebal\\*\\*" in row
    assert "\\[tautan\\](http&#58;//x)" in row
    assert "&#64;octocat" in row and "@octocat" not in form
    assert "\\| pipa" in row
    assert row.count(" | ") == 7  # eight columns: the pipe in the name did not add one
