"""The completion report (SOP steps 8-10): report.json, report.md, report.html and the DOCX letters."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import jsonschema
import pytest

from bandwidth.reports import completion, report_data, report_files, report_markdown, report_text
from conftest import FULL_TIMELINE, HOSTILE_AGENCY, allocation, rates, sample

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = Path(__file__).parent / "expected"
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
CHROMIUM = Path("/usr/bin/chromium")
# What an apply error may carry: markup, a mention, a link, a newline, a control character.
HOSTILE_REASON = "unreachable: Failed to connect to the host via ssh: <script>alert(1)</script> **x** @octocat [a](http://evil)\nkex\x07 `rm`"


def wire(guaranteed: float, maximum: float, measured=None, wire_mbps=None, contention=None, contention_wire=None, **by_family: tuple) -> dict:
    """A direction with the wire rates: by_family as ipv4=(goodput, wire)."""
    families = {name: {"measured_mbps": got, "wire_mbps": l2} for name, (got, l2) in by_family.items()}
    return rates(guaranteed, maximum, measured, contention) | {"wire_mbps": wire_mbps, "contention_wire_mbps": contention_wire, "by_family": families}


TOLERANCE = {"max_low": 0.85, "max_high": 1.05, "guaranteed_min": 0.90, "wire_max_low": 0.97, "wire_max_high": 1.03, "wire_guaranteed_min": 0.97, "goodput_wire_max": 1.0}
OLDER_TOLERANCE = {key: value for key, value in TOLERANCE.items() if key != "goodput_wire_max"}  # reports before goodput had the wire's window
NOT_ASKED = "tidak diminta (bandwidth_verify_measure=changed)"


def wired() -> dict:
    """A report with the wire rates: IPv4 only, IPv6 only, dual-stack, not measured with a reason, an older entry without the new keys, a dual-stack failure."""
    report = sample()
    report["tolerance"] = dict(TOLERANCE)
    report["allocations"] = [
        allocation(
            "BW-2026-0001", "gw-samarinda", "isp-a", "Dinas Kesehatan Provinsi Kalimantan Timur", changed=True, github="budi-santoso",
            families=["ipv4"], not_measured_reason=None, rtt_ms={"family": "ipv4", "idle": 0.08, "loaded": 41.7},
            download=wire(50, 100, 95.6, 99.9, 50.2, 52.5, ipv4=(95.6, 99.9)),
            upload=wire(20, 40, 38.2, 39.95, ipv4=(38.2, 39.95)) | {"first": {"measured_mbps": 36.5, "wire_mbps": 38.4}},  # measured again: passes
        ),
        allocation(
            "BW-2026-0002", "gw-samarinda", "isp-b", "Badan Pendapatan Daerah Provinsi Kalimantan Timur", changed=False, github="siti-aminah",
            subnets=["2001:db8:20::/48"], families=["ipv6"], not_measured_reason=None, rtt_ms={"family": "ipv6", "idle": 0.09, "loaded": 35.2},
            download=wire(40, 80, 75.5, 80.1, 38.9, 41.2, ipv6=(75.5, 80.1)),
            upload=wire(15, 30, 28.3, 30.05, 14.6, 15.4, ipv6=(28.3, 30.05)),
        ),
        allocation(
            "BW-2026-0003", "gw-balikpapan", "isp-a", "RSUD Dr. Kanujoso Djatiwibowo", changed=True, github=None,
            subnets=["198.18.30.0/24", "2001:db8:30::/48"], families=["ipv4", "ipv6"], not_measured_reason=None, rtt_ms={"family": "ipv4", "idle": 0.1, "loaded": 52.3},
            download=wire(100, 200, 190.4, 199.6, 98.9, 103.2, ipv4=(191.2, 199.8), ipv6=(188.3, 199.5)),
            upload=wire(40, 60, 57.1, 59.9, 39.1, 41.3, ipv4=(57.3, 59.9), ipv6=(56.5, 59.8)),
        ),
        allocation(
            "BW-2026-0004", "gw-balikpapan", "isp-a", "Dinas Pendidikan dan Kebudayaan Provinsi Kalimantan Timur", changed=True, github="rudi-h", verdict="not_measured",
            families=["ipv4"], not_measured_reason=NOT_ASKED, rtt_ms=None, download=wire(25, 50), upload=wire(10, 20),
        ),
        allocation(  # written before the wire rates existed: judged on goodput
            "BW-2026-0005", "gw-samarinda", "isp-a", "Dinas Perhubungan Provinsi Kalimantan Timur", changed=False, github=None,
            download=rates(25, 50, 48.0, 26.0), upload=rates(10, 20, 19.2),
        ),
        allocation(
            "BW-2026-0006", "gw-balikpapan", "isp-a", "Dinas Kominfo Provinsi Kalimantan Timur", changed=True, github="ani-w", verdict="fail",
            subnets=["198.18.60.0/24", "2001:db8:60::/48"], families=["ipv4", "ipv6"], not_measured_reason=None, rtt_ms={"family": "ipv6", "idle": 0.12, "loaded": None},
            download=wire(30, 60, 56.9, 59.8, 29.0, 30.4, ipv4=(57.2, 59.9), ipv6=(52.0, 55.1)),  # IPv6 alone 91.8% of max on the wire, twice
            upload=wire(10, 20, 19.1, 19.95, ipv4=(19.1, 19.95), ipv6=(18.8, 19.9)),
        ),
    ]  # fmt: skip
    report["allocations"][5]["download"]["by_family"]["ipv6"]["first"] = {"measured_mbps": 52.3, "wire_mbps": 55.4}
    return report


def hostile() -> dict:
    report = sample()
    report["allocations"].append(
        allocation(
            "BW-2026-0005",
            "gw-samarinda",
            "isp-a",
            HOSTILE_AGENCY,
            changed=True,
            github="lina-m",
            purpose="Baris satu\nBaris dua <b>tebal</b> @octocat\x07",
            letter={"number": "001/<i>X</i>/2026", "date": "2026-11-20"},
            contact={"name": "Lina @octocat\u202eMarlina", "email": "lina@example.go.id", "github": "lina-m"},
            # An earlier version of the file held anything: its values are shown, never rendered.
            request={"kind": "change", "changes": [{"field": "subnets", "old": ["<b>lama</b> @octocat [a](http://evil)"], "new": ["198.18.1.0/24"]}]},
        )
    )
    return report


def unapplied(reason: str = HOSTILE_REASON) -> dict:
    """The sample report after an apply that could not reach gw-balikpapan: its allocations are not_applied, whatever was measured."""
    report = sample()
    gateway = next(g for g in report["gateways"] if g["name"] == "gw-balikpapan")
    gateway.update(applied=False, reason=reason, changed=False, commands=[])
    for item in report["allocations"]:
        if item["gateway"] == "gw-balikpapan":
            item["verdict"] = "not_applied"
            item["timeline"]["applied"] = None
    return report


def written(report: dict, out: Path) -> dict[str, Path]:
    return {p.name: p for p in report_files.write_all(report, out)}


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def test_writes_every_file_and_the_json_validates(tmp_path: Path):
    files = written(sample(), tmp_path)
    assert sorted(files) == ["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx", "Laporan_Penyelesaian_Tugas_BW-2026-0003.docx", "report.html", "report.json", "report.md"]
    assert all(p.parent == tmp_path and p.stat().st_size > 0 for p in files.values())
    document = json.loads(files["report.json"].read_text(encoding="utf-8"))
    assert document == sample()
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(document)
    assert '  "commit"' in files["report.json"].read_text(encoding="utf-8")  # indent 2


def test_two_reports_finished_in_the_same_second_get_a_folder_each(tmp_path: Path):
    """A re-run right after a run (the same second in the stamp): the second folder holds only its own files, never a
    letter the first one wrote; latest points at the second."""
    first = sample()
    completion.write(first, tmp_path)
    second = sample()
    second["allocations"] = [{**a, "changed": False} for a in second["allocations"]]
    folder = completion.write(second, tmp_path)
    stamp = first["finished"].replace(":", "").replace("-", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([stamp, f"{stamp}-2", "latest"])
    assert folder.name == f"{stamp}-2" and (tmp_path / "latest").resolve() == folder.resolve()
    assert not [p.name for p in folder.iterdir() if p.suffix == ".docx"] and any(p.suffix == ".docx" for p in (tmp_path / stamp).iterdir())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("commit"), '(top level): "commit" is a required property'),
        (lambda r: r["allocations"][0].update(verdict="maybe"), "allocations.0.verdict"),
        (lambda r: r["gateways"][0].update(applied="no"), "gateways.0.applied"),
        (lambda r: r["gateways"][1].update(applied=False, reason="x" * 2001), "gateways.1.reason"),
        (lambda r: r["allocations"][0].update(id="../../etc/passwd"), "allocations.0.id"),
        (lambda r: r["allocations"][1]["download"].pop("measured_mbps"), "allocations.1.download"),
        (lambda r: r["allocations"][0]["contact"].update(github="-octocat"), "allocations.0.contact.github"),
        (lambda r: r.update(finished="28 November 2026"), "finished"),
        (lambda r: r["allocations"][0]["timeline"].update(applied="2026-13-45T25:00:00Z"), "allocations.0.timeline.applied"),
        (lambda r: r["allocations"][0]["timeline"].update(copied="2026-02-30T01:00:00Z"), "allocations.0.timeline.copied"),
        (lambda r: r["allocations"][0]["timeline"].update(dispositions=[{"role": "kasubag_tu", "login": "tu-1", "time": "2026-11-31T01:00:00Z"}]), "allocations.0.timeline.dispositions.0.time"),
        (lambda r: r["allocations"][0]["timeline"].update(dispositions=[{"role": "kasubag_tu", "login": "<b>x</b>", "time": None}]), "allocations.0.timeline.dispositions.0.login"),
        (lambda r: r["allocations"][0]["timeline"].update(pull_request="12"), "allocations.0.timeline.pull_request"),
        (lambda r: r["allocations"][0]["download"].update(measured_mbps=float("nan")), "not JSON data"),
        (lambda r: r["allocations"].append(copy.deepcopy(r["allocations"][0])), "id BW-2026-0001 appears 2 times"),
    ],
)
def test_an_invalid_report_raises_and_writes_nothing(tmp_path: Path, change, message):
    report = sample()
    change(report)
    with pytest.raises(ValueError, match="report") as caught:
        report_files.write_all(report, tmp_path / "out")
    assert message in str(caught.value)
    assert not (tmp_path / "out").exists()
    if not any(word in message for word in ("not JSON", "appears", "timeline")):  # the schema itself rejects it too
        assert not jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).is_valid(report)


def schema_errors(report: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [".".join(str(p) for p in error.absolute_path) for error in validator.iter_errors(report)]


def test_the_wire_keys_validate_and_older_reports_still_do(tmp_path: Path):
    report = wired()
    assert schema_errors(report) == [] and schema_errors(sample()) == []
    assert "wire_mbps" not in report["allocations"][4]["download"] and "families" not in report["allocations"][4]  # the older entry
    document = json.loads(written(report, tmp_path)["report.json"].read_text(encoding="utf-8"))
    assert document == report
    assert document["tolerance"] == TOLERANCE
    dual = document["allocations"][2]
    assert dual["families"] == ["ipv4", "ipv6"] and sorted(dual["download"]["by_family"]) == ["ipv4", "ipv6"]
    assert document["allocations"][3]["download"]["by_family"] == {} and document["allocations"][3]["not_measured_reason"] == NOT_ASKED


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r["tolerance"].update(wire_max_low="0.97"), "tolerance.wire_max_low"),
        (lambda r: r["tolerance"].update(wire_guaranteed_min=-0.1), "tolerance.wire_guaranteed_min"),
        (lambda r: r["allocations"][2].update(families=["ipv6", "ipv4"]), "allocations.2.families"),  # ipv4 first
        (lambda r: r["allocations"][0].update(families=["ipv4", "ipv4"]), "allocations.0.families"),
        (lambda r: r["allocations"][0].update(families=[]), "allocations.0.families"),
        (lambda r: r["allocations"][0].update(families="ipv4"), "allocations.0.families"),
        (lambda r: r["allocations"][3].update(not_measured_reason=7), "allocations.3.not_measured_reason"),
        (lambda r: r["allocations"][3].update(not_measured_reason="x" * 2001), "allocations.3.not_measured_reason"),
        (lambda r: r["allocations"][0].update(rtt_ms={"family": "ipv4", "idle": 0.1}), "allocations.0.rtt_ms"),
        (lambda r: r["allocations"][0].update(rtt_ms={"family": "inet", "idle": 0.1, "loaded": 2}), "allocations.0.rtt_ms"),
        (lambda r: r["allocations"][0].update(rtt_ms={"family": "ipv4", "idle": -0.1, "loaded": 2}), "allocations.0.rtt_ms"),
        (lambda r: r["allocations"][0].update(rtt_ms={"family": "ipv4", "idle": 0.1, "loaded": "2"}), "allocations.0.rtt_ms"),
        (lambda r: r["allocations"][0]["download"].update(wire_mbps=-1), "allocations.0.download.wire_mbps"),
        (lambda r: r["allocations"][0]["upload"].update(contention_wire_mbps="fast"), "allocations.0.upload.contention_wire_mbps"),
        (lambda r: r["allocations"][0]["download"].update(by_family=[]), "allocations.0.download.by_family"),
        (lambda r: r["allocations"][2]["download"]["by_family"]["ipv6"].update(wire_mbps=-0.5), "allocations.2.download.by_family.ipv6.wire_mbps"),
        (lambda r: r["allocations"][2]["download"]["by_family"]["ipv6"].pop("wire_mbps"), "allocations.2.download.by_family.ipv6"),
        (lambda r: r["allocations"][2]["upload"]["by_family"].update(ipv4=None), "allocations.2.upload.by_family.ipv4"),
    ],
)
def test_the_wire_keys_have_exact_types(tmp_path: Path, change, where):
    report = wired()
    change(report)
    assert schema_errors(report) and all(path.startswith(where) for path in schema_errors(report)), schema_errors(report)
    with pytest.raises(ValueError, match="report does not match") as caught:
        report_files.write_all(report, tmp_path / "out")
    assert f"{where}: " in str(caught.value) or f"{where}." in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_markdown_summary_in_bahasa(tmp_path: Path):
    text = written(sample(), tmp_path)["report.md"].read_text(encoding="utf-8")
    assert text.startswith("## Laporan Penyelesaian Tugas Penyediaan Bandwidth\n")
    assert "commit `0123456`" in text
    assert "Waktu mulai: 28 November 2026 pukul 09.02 WITA · selesai: 28 November 2026 pukul 09.05 WITA" in text
    assert "**Hasil: 1 alokasi gagal.** (2 lulus, 1 gagal, 1 tidak diukur; 0 drift)" in text
    assert (
        "| ID | Pengguna Bandwidth | Gateway / Uplink | Unduh dikonfigurasi (jaminan / maks) | Unduh di kabel (L2) / iperf3 | Unggah dikonfigurasi (jaminan / maks) "
        "| Unggah di kabel (L2) / iperf3 | RTT idle → beban (ms) | Hasil |"
    ) in text
    assert "| BW-2026-0001 (diubah) | Dinas Kesehatan Provinsi Kalimantan Timur | gw-samarinda / isp-a | 50 / 100 | - / 95,2 (bersama - / 51) | 20 / 40 | - / 38,125 | - | Lulus |" in text
    assert "| BW-2026-0003 (diubah) | RSUD Dr. Kanujoso Djatiwibowo | gw-balikpapan / isp-a | 100 / 200 | - / 120,5 (bersama - / 70,25) | 40 / 60 | - / 57 (bersama - / 39,5) | - | **Gagal** |" in text
    assert "| BW-2026-0004 | Dinas Pendidikan dan Kebudayaan Provinsi Kalimantan Timur | gw-balikpapan / isp-a | 25 / 50 | - | 10 / 20 | - | - | Tidak diukur |" in text
    assert "Gateway: gw-balikpapan tidak berubah, gw-samarinda diubah (1 perintah tc)." in text
    # Only the requesters of changed allocations are mentioned; BW-2026-0003 has no login.
    assert "Pemohon: @budi-santoso\n" in text
    assert "@siti-aminah" not in text and "@rudi-h" not in text
    assert re.findall(r"@[\w-]+", text) == ["@budi-santoso"]
    assert "Drift" not in text and "drift)" in text
    assert len(text) < 5000


def test_markdown_matches_the_expected_sample(tmp_path: Path):
    # To update after an intended change: copy report.md of this report to tests/expected/report.md.
    report = sample()
    report["drift"] = [{"gateway": "gw-balikpapan", "device": "eth1", "allocation": "BW-2026-0004", "difference": "class 1:14 rate 40mbit, expected 50mbit"}]
    text = written(report, tmp_path)["report.md"].read_text(encoding="utf-8")
    assert text == (EXPECTED / "report.md").read_text(encoding="utf-8")


def test_result_line_when_all_pass_and_with_drift(tmp_path: Path):
    report = sample()
    report["allocations"] = report["allocations"][:2]
    assert "**Hasil: semua 2 alokasi lulus.**" in report_markdown.render_markdown(report)
    report["drift"] = [{"gateway": "gw-samarinda", "device": "eth1", "allocation": None, "difference": "qdisc missing on eth1"}]
    text = report_markdown.render_markdown(report)
    assert "**Hasil: konfigurasi menyimpang (drift): 1 temuan.**" in text
    assert "### Konfigurasi menyimpang (drift)" in text and "- gw-samarinda eth1: qdisc missing on eth1" in text


def test_markdown_stays_short_with_many_allocations():
    report = sample()
    template = report["allocations"][1]
    report["allocations"] = [dict(template, id=f"BW-2026-{i:04d}", agency="@" * 200) for i in range(1, 2000)]
    report["allocations"][-1]["verdict"] = "fail"
    text = report_markdown.render_markdown(report)
    assert len(text) <= report_data.MAX_MARKDOWN
    assert "| BW-2026-1999 |" in text  # the failed one is kept
    assert re.search(r"\.\.\. dan \d+ alokasi lain", text)


def test_html_is_self_contained_with_both_charts(tmp_path: Path):
    html = written(sample(), tmp_path)["report.html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="id">' in html
    assert 'id="chart-allocations"' in html and 'id="chart-uplinks"' in html
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html and "src=" not in html
    assert "Laporan Penyelesaian Tugas Penyediaan Bandwidth" in html and "Pemakaian kapasitas uplink" in html
    # One group per allocation in the first chart; per uplink and direction a stacked bar in the second.
    allocations_svg = re.search(r'<svg id="chart-allocations".*?</svg>', html, re.S).group()
    assert allocations_svg.count('class="guaranteed"') == 2 * 4 + 1  # two directions per allocation, and the legend
    uplinks_svg = re.search(r'<svg id="chart-uplinks".*?</svg>', html, re.S).group()
    assert uplinks_svg.count('class="alloc"') == 3 * 2 + 1
    assert "teralokasi 210 (21%) · cadangan 100 · sisa 690" in uplinks_svg


def test_docx_letter_per_changed_allocation(tmp_path: Path):
    files = written(sample(), tmp_path)
    assert "Laporan_Penyelesaian_Tugas_BW-2026-0002.docx" not in files and "Laporan_Penyelesaian_Tugas_BW-2026-0004.docx" not in files
    text = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"])
    assert "Bidang Teknologi Informasi dan Komunikasi" in text
    assert "Yth. Dinas Kesehatan Provinsi Kalimantan Timur" in text
    assert "Perihal" in text and "Laporan Penyelesaian Penyediaan Bandwidth" in text
    assert "Menindaklanjuti Surat Saudara Nomor 440/0001/DISKOMINFO-XI/2026 tanggal 2 November 2026" in text
    assert "Mutu Baku" in text and "Waktu Pelaksanaan" in text
    assert "50 / 100 Mbit/s" in text and "198.18.10.0/24" in text and "sejak 9 November 2026" in text
    assert "Lulus" in text
    document = docx.Document(str(files["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"]))
    assert document.paragraphs[-1].text == "Tembusan: Budi Santoso (Pengguna Bandwidth)"
    steps = document.tables[-1]
    assert [steps.cell(i, 2).text for i in range(1, 11)] == ["15 menit", "1-2 jam", "1-2 jam", "1-2 jam", "1 hari", "15 menit", "1 hari", "1-2 jam", "15 menit", "1 hari"]
    times = [steps.cell(i, 3).text for i in range(1, 11)]
    # A timeline as reports before the per-step keys wrote it: what it knows, each step in its own row.
    assert times[0] == "27 November 2026 pukul 09.00 WITA"  # step 1: committed (no requested, no opened: no duration)
    assert times[1:6] == ["-"] * 5  # no dispositions, no check recorded
    assert times[6] == "28 November 2026 pukul 09.02 WITA\n(durasi 7 menit)"  # merged 08.55 -> applied 09.02
    assert times[7] == "28 November 2026 pukul 09.04 WITA\n(durasi 1 menit)"
    assert times[8] == "28 November 2026 pukul 09.05 WITA\n(durasi < 1 menit)"  # verified 09.04.10 -> the report, finished 09.05.00
    assert times[9] == "-"  # not yet copied to the requester
    assert len({steps.cell(i, 3)._tc for i in range(1, 11)}) == 10  # no merged cells
    assert "Gagal" in docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0003.docx"])


def test_hostile_text_shows_literally_everywhere(tmp_path: Path):
    files = written(hostile(), tmp_path)
    text = files["report.md"].read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>" not in text and "**x**" not in text
    assert not re.search(r"(?<!\\)\]\(", text)  # no link: every ] is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\*\\*x\\*\\* &#64;octocat \\[a\\](http&#58;//evil)" in text
    assert "@octocat" not in text
    assert "Pemohon: @budi-santoso, @lina-m\n" in text
    row = next(line for line in text.splitlines() if line.startswith("| BW-2026-0005"))
    assert row.count(" | ") == 8  # no cell split by the text

    assert "- BW-2026-0005 (" in text and "Subnet &lt;b&gt;lama&lt;/b&gt; &#64;octocat \\[a\\](http&#58;//evil) → 198.18.1.0/24" in text

    html = files["report.html"].read_text(encoding="utf-8")
    assert "<td>Subnet</td><td>&lt;b&gt;lama&lt;/b&gt; @octocat [a](http&#58;//evil)</td><td>198.18.1.0/24</td>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **x** @octocat [a](http&#58;//evil)" in html
    assert "<script" not in html and "<b>tebal" not in html and "<i>X" not in html and "http://" not in html
    assert "Baris satu\\u000aBaris dua &lt;b&gt;tebal&lt;/b&gt;" in html

    letter = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0005.docx"])
    assert f"Yth. {HOSTILE_AGENCY}" in letter
    assert "Nomor 001/<i>X</i>/2026 tanggal 20 November 2026" in letter
    assert "untuk keperluan Baris satu Baris dua <b>tebal</b> @octocat," in letter  # the newline and the bell are gone
    assert "Tembusan: Lina @octocatMarlina (Pengguna Bandwidth)" in letter  # no bidi override
    assert "\x07" not in letter and "\u202e" not in letter
    assert "Subnet\n<b>lama</b> @octocat [a](http://evil)\n198.18.1.0/24" in letter  # a letter is no markup: shown as written


@pytest.mark.parametrize("make", [sample, wired])
def test_report_html_in_headless_chromium(tmp_path: Path, make):
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("/usr/bin/chromium is not installed")
    html = written(make(), tmp_path / "out")["report.html"]
    profile = tmp_path / "profile"
    argv = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    shot = tmp_path / "shot.png"
    done = subprocess.run([*argv, f"--screenshot={shot}", "--window-size=1200,1600", html.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert shot.exists(), done.stderr
    assert shot.stat().st_size > 10_000
    dom = subprocess.run([*argv, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert 'id="chart-allocations"' in dom.stdout and 'id="chart-uplinks"' in dom.stdout, dom.stderr


def test_docx_has_one_row_per_step_with_its_time_and_duration(tmp_path: Path):
    report = sample()
    report["allocations"][0]["timeline"] = copy.deepcopy(FULL_TIMELINE)
    steps = docx.Document(str(written(report, tmp_path)["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"])).tables[-1]
    assert len(steps.rows) == 11 and len({steps.cell(i, 3)._tc for i in range(1, 11)}) == 10  # no merged cells
    assert [steps.cell(i, 3).text for i in range(1, 11)] == [
        "27 November 2026 pukul 08.58 WITA\n(durasi 2 menit)",  # the issue opened -> the pull request opened
        "27 November 2026 pukul 10.10 WITA\n(durasi 1 jam 10 menit)\noleh sri-wahyuni-tu",  # from opened
        "27 November 2026 pukul 11.00 WITA\n(durasi 50 menit)\noleh rudi-hartono-tik",
        "27 November 2026 pukul 12.30 WITA\n(durasi 1 jam 30 menit)\noleh dewi-lestari-infra",
        "27 November 2026 pukul 09.03 WITA\n(durasi 3 menit)",  # from opened: the approved head is older
        "27 November 2026 pukul 09.03 WITA\n(durasi < 1 menit)",
        "28 November 2026 pukul 09.02 WITA\n(durasi 7 menit)",
        "28 November 2026 pukul 09.04 WITA\n(durasi 1 menit)",
        "28 November 2026 pukul 09.05 WITA\n(durasi < 1 menit)",
        "28 November 2026 pukul 09.07 WITA\n(durasi 2 menit)",  # commented on the pull request
    ]
    assert [steps.cell(i, 2).text for i in range(1, 11)] == [standard for _, _, standard in report_data.STEPS]
    text = docx_text(written(report, tmp_path)["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"])
    assert "Waktu penyelesaian seluruhnya sejak permohonan diajukan: 1 hari (Mutu Baku 2-4 hari kerja)." in text  # requested -> finished


def test_step_times_per_step():
    report = sample()
    timeline = report["allocations"][0]["timeline"] = copy.deepcopy(FULL_TIMELINE)
    rows = report_text.step_times(report, report["allocations"][0])
    assert [row.step for row in rows] == list(range(1, 11))
    assert all(row.moment is not None for row in rows)
    # Pushed again after the pull request was opened: step 5 is timed from that push.
    timeline.update(head_committed="2026-11-27T01:02:00Z")
    assert report_text.step_times(report, report["allocations"][0])[4].seconds == 60
    # A role without a valid approval: its step is unknown, and so is the duration of the step after it.
    timeline["dispositions"][1].update(login=None, time=None)
    rows = report_text.step_times(report, report["allocations"][0])
    assert [(row.moment is None, row.seconds, row.by) for row in rows[1:4]] == [(False, 4200.0, "sri-wahyuni-tu"), (True, None, None), (False, None, "dewi-lestari-infra")]
    # Nothing copied yet, no time at all: unknown, never a guess.
    timeline.update(copied=None)
    assert report_text.step_times(report, report["allocations"][0])[9] == report_data.StepTime(10, None, None, None)
    assert [row.moment for row in report_text.step_times(report, {"timeline": {}})][:8] == [None] * 8


def test_only_the_required_keys_are_enough(tmp_path: Path):
    direction = {"guaranteed_mbps": 1.5, "max_mbps": 2, "measured_mbps": None}
    report = {
        "commit": "f" * 40,
        "started": "2026-11-28T01:02:03+08:00",
        "finished": "2026-11-27T17:03:03.123456",  # without an offset: UTC, as Ansible's now(utc=true) writes it
        "gateways": [],
        "drift": [],
        "allocations": [{"id": "BW-2026-0009", "gateway": "gw-a", "uplink": "isp-a", "download": direction, "upload": direction, "verdict": "not_measured", "changed": True}],
    }
    files = written(report, tmp_path)
    assert "**Hasil: tidak ada alokasi yang diukur.**" in files["report.md"].read_text(encoding="utf-8")
    assert "Waktu mulai: 28 November 2026 pukul 01.02 WITA · selesai: 28 November 2026 pukul 01.03 WITA" in files["report.md"].read_text(encoding="utf-8")
    assert "Tidak ada uplink." in files["report.html"].read_text(encoding="utf-8")
    letter = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0009.docx"])
    assert "Yth. -" in letter and "Tidak diukur" in letter and "1,5 / 2 Mbit/s" in letter
    empty = written({**report, "allocations": []}, tmp_path / "empty")
    assert "Tidak ada alokasi." in empty["report.md"].read_text(encoding="utf-8") and len(empty) == 3


def test_not_applied_validates_and_the_markdown_names_the_gateway(tmp_path: Path):
    files = written(unapplied(), tmp_path)
    document = json.loads(files["report.json"].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(document)
    assert document["gateways"][1] == {**sample()["gateways"][1], "applied": False, "reason": HOSTILE_REASON}
    text = files["report.md"].read_text(encoding="utf-8")
    assert "**Hasil: konfigurasi belum diterapkan pada gateway gw-balikpapan (2 alokasi).** (2 lulus, 0 gagal, 0 tidak diukur, 2 belum diterapkan; 0 drift)" in text
    assert "Gateway: gw-balikpapan belum diterapkan, gw-samarinda diubah (1 perintah tc)." in text
    assert "### Konfigurasi belum diterapkan" in text
    # The reason, escaped: no HTML, no emphasis, no mention, no link, no code span, no control character.
    reason = (
        r"- gw-balikpapan: unreachable&#58; Failed to connect to the host via ssh&#58; &lt;script&gt;alert(1)&lt;/script&gt; \*\*x\*\* &#64;octocat \[a\](http&#58;//evil)"
        r" kex\\u0007 \`rm\`" + "\n"
    )
    assert reason in text
    assert "<script>" not in text and "**x**" not in text and "@octocat" not in text and "\x07" not in text
    assert (
        "| BW-2026-0003 (diubah) | RSUD Dr. Kanujoso Djatiwibowo | gw-balikpapan / isp-a | 100 / 200 | - / 120,5 (bersama - / 70,25) | 40 / 60 | - / 57 (bersama - / 39,5) | - | **Belum diterapkan** |"
        in text
    )
    assert "| BW-2026-0004 | Dinas Pendidikan dan Kebudayaan Provinsi Kalimantan Timur | gw-balikpapan / isp-a | 25 / 50 | - | 10 / 20 | - | - | **Belum diterapkan** |" in text
    # The other gateway's allocations keep their verdicts.
    assert "| BW-2026-0001 (diubah) | Dinas Kesehatan Provinsi Kalimantan Timur | gw-samarinda / isp-a | 50 / 100 | - / 95,2 (bersama - / 51) | 20 / 40 | - / 38,125 | - | Lulus |" in text
    assert "Lulus |" in text.split("| BW-2026-0002 |")[1].splitlines()[0]


def test_a_long_reason_is_cut_in_the_markdown_only(tmp_path: Path):
    files = written(unapplied("tc: " + "x" * 1990), tmp_path)
    line = next(x for x in files["report.md"].read_text(encoding="utf-8").splitlines() if x.startswith("- gw-balikpapan: "))
    assert line == "- gw-balikpapan: tc&#58; " + "x" * (report_data.MAX_REASON - 5) + "…"
    assert json.loads(files["report.json"].read_text(encoding="utf-8"))["gateways"][1]["reason"] == "tc: " + "x" * 1990


def test_the_result_never_says_all_passed_when_a_gateway_was_not_applied():
    report = unapplied("unreachable")
    report["allocations"] = report["allocations"][:2]  # gw-balikpapan has no allocation left; both of gw-samarinda pass
    assert "**Hasil: semua 2 alokasi lulus.**" in report_markdown.render_markdown(sample() | {"allocations": report["allocations"]})
    text = report_markdown.render_markdown(report)
    assert "**Hasil: konfigurasi belum diterapkan pada gateway gw-balikpapan (0 alokasi).** (2 lulus, 0 gagal, 0 tidak diukur; 0 drift)" in text
    assert "semua" not in text.split("**Hasil:")[1].split("**")[0]
    assert not report_data.ok(report) and report_data.ok(sample() | {"allocations": report["allocations"]})
    for gateway in report["gateways"]:
        gateway["applied"] = False
    assert report_text.result_text(report) == "konfigurasi belum diterapkan pada gateway gw-balikpapan, gw-samarinda (0 alokasi)"


def test_a_gateway_without_an_apply_record_is_unknown(tmp_path: Path):
    report = sample()
    for gateway in report["gateways"]:
        gateway.update(applied=None, changed=False, commands=[])
    text = written(report, tmp_path)["report.md"].read_text(encoding="utf-8")
    assert "Gateway: gw-balikpapan tidak ada catatan penerapan, gw-samarinda tidak ada catatan penerapan." in text
    assert "belum diterapkan" not in text.lower()


def test_a_pass_on_a_gateway_not_applied_is_refused(tmp_path: Path):
    report = unapplied()
    report["allocations"][2]["verdict"] = "pass"  # BW-2026-0003, on gw-balikpapan
    with pytest.raises(ValueError, match=r'allocations\.2\.verdict: "pass" on gateway gw-balikpapan, which was not applied'):
        report_files.write_all(report, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_not_applied_in_the_html(tmp_path: Path):
    html = written(unapplied(), tmp_path)["report.html"].read_text(encoding="utf-8")
    assert '<p class="result bad">Hasil: konfigurasi belum diterapkan pada gateway gw-balikpapan (2 alokasi). (2 lulus, 0 gagal, 0 tidak diukur, 2 belum diterapkan; 0 drift)</p>' in html
    section = html.split("<h2>Konfigurasi belum diterapkan</h2>")[1].split("<h2>")[0]
    # The whole reason, line by line, escaped; no scheme that reads as a URL.
    reason = "unreachable&#58; Failed to connect to the host via ssh&#58; &lt;script&gt;alert(1)&lt;/script&gt; **x** @octocat [a](http&#58;//evil)\nkex\\u0007 `rm`"
    assert f'<tr><td>gw-balikpapan</td><td class="num">2</td><td><pre>{reason}</pre></td></tr>' in section
    assert "<script" not in html and "http://" not in html and "\x07" not in html
    assert html.count('<td class="v-not_applied">Belum diterapkan</td>') == 2 and html.count('<td class="v-pass">Lulus</td>') == 2
    assert "<li><strong>gw-balikpapan</strong>: belum diterapkan</li>" in html
    chart = re.search(r'<svg id="chart-allocations".*?</svg>', html, re.S).group()
    assert chart.count('<rect class="not_applied"') == 1  # the legend: an older report has no wire rate to draw
    assert chart.count('<rect class="not_applied goodput"') == 2  # BW-2026-0003's two goodput bars (BW-2026-0004 was not measured)
    assert chart.count('class="small v-not_applied"') == 2 and "di kabel, belum diterapkan" in chart
    assert ".v-not_applied {" in html and "svg .not_applied {" in html and "svg text.v-not_applied {" in html
    # Without a gateway not applied, there is no such section and the result is not marked bad for it.
    plain = written(sample() | {"allocations": sample()["allocations"][:2]}, tmp_path / "plain")["report.html"].read_text(encoding="utf-8")
    assert "Konfigurasi belum diterapkan" not in plain and '<p class="result">Hasil: semua 2 alokasi lulus.' in plain


def test_the_letter_of_an_allocation_not_applied_does_not_say_it_was_provided(tmp_path: Path):
    files = written(unapplied(), tmp_path)
    path = files["Laporan_Penyelesaian_Tugas_BW-2026-0003.docx"]
    letter = docx_text(path)
    assert "Laporan Penyediaan Bandwidth: Konfigurasi Belum Diterapkan" in letter and "Laporan Penyelesaian Penyediaan Bandwidth" not in letter
    assert "konfigurasi penyediaan bandwidth tersebut pada gateway gw-balikpapan belum berhasil diterapkan, sehingga bandwidth tersebut belum dapat kami nyatakan tersedia" in letter
    assert "Konfigurasi diterapkan\nBelum diterapkan" in letter
    # The reason as plain text: the newline a space, the bell gone; python-docx writes it escaped into the XML.
    reason = "unreachable: Failed to connect to the host via ssh: <script>alert(1)</script> **x** @octocat [a](http://evil) kex `rm`"
    assert (
        f"Hasil: Belum diterapkan. Konfigurasi pada gateway gw-balikpapan gagal diterapkan; penyebab: {reason}. "
        "Tim Teknis menindaklanjuti dan akan menyampaikan laporan penyelesaian setelah konfigurasi berhasil diterapkan." in letter
    )
    for claim in ("telah dikonfigurasi", "Bandwidth terpasang", "Lulus", "Waktu penyelesaian seluruhnya"):
        assert claim not in letter, claim
    assert "\x07" not in letter
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    assert "<script>" not in xml and "&lt;script&gt;alert(1)&lt;/script&gt;" in xml
    assert docx.Document(str(path)).core_properties.title == "Laporan Penyediaan Bandwidth: Konfigurasi Belum Diterapkan BW-2026-0003"
    # The letter of the gateway that was applied is the completion letter, as before.
    other = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"])
    assert "telah dikonfigurasi pada gateway" in other and "Hasil: Lulus. Bandwidth terpasang" in other and "Belum diterapkan" not in other


def test_the_letter_cuts_a_long_reason(tmp_path: Path):
    letter = docx_text(written(unapplied("x" * 2000), tmp_path)["Laporan_Penyelesaian_Tugas_BW-2026-0003.docx"])
    assert "penyebab: " + "x" * 299 + "…. Tim Teknis" in letter and "x" * 300 not in letter
    letter = docx_text(written(unapplied(None), tmp_path / "none")["Laporan_Penyelesaian_Tugas_BW-2026-0003.docx"])
    assert "gagal diterapkan; penyebab tidak tercatat. Tim Teknis" in letter


def judged(download: dict, upload: dict | None = None, families: list[str] | None = None, tolerance: dict | None = TOLERANCE) -> str:
    both = families == ["ipv4", "ipv6"]
    entry = {"download": download, "upload": upload or wire(20, 40, 38.2, 39.95, ipv4=(38.2, 39.95), **({"ipv6": (37.7, 39.9)} if both else {}))}
    if families is not None:
        entry["families"] = families
    return report_data.verdict(entry, tolerance)


@pytest.mark.parametrize(
    ("download", "expected"),
    [
        # Alone, on the wire: 97-103% of max (0.969, 0.97, 1.03, 1.031 x 100 Mbit/s).
        (wire(50, 100, 93.0, 96.9, ipv4=(93.0, 96.9)), "fail"),
        (wire(50, 100, 93.1, 97.0, ipv4=(93.1, 97.0)), "pass"),
        (wire(50, 100, 98.4, 103.0, ipv4=(98.4, 103.0)), "pass"),
        (wire(50, 100, 98.5, 103.1, ipv4=(98.5, 103.1)), "fail"),
        # At the bound in kbit although the float product lies beyond it: 0.97 * 6.9 = 6.6930000000000005, 1.03 * 1.9 = 1.9569999999999999.
        (wire(1, 6.9, 6.4, 6.693), "pass"),
        (wire(1, 6.9, 6.4, 6.692), "fail"),
        (wire(1, 1.9, 1.87, 1.957), "pass"),
        (wire(1, 1.9, 1.87, 1.958), "fail"),
        # Together, on the wire: at least 97% of guaranteed (0.969 and 0.97 x 50).
        (wire(50, 100, 95.6, 99.9, 46.4, 48.45, ipv4=(95.6, 99.9)), "fail"),
        (wire(50, 100, 95.6, 99.9, 46.5, 48.5, ipv4=(95.6, 99.9)), "pass"),
        # The wire rate decides, not the goodput: 95.5% goodput is a full class; 90% goodput with 96% on the wire is not.
        (wire(50, 100, 95.5, 99.8), "pass"),
        (wire(50, 100, 90.0, 96.0), "fail"),
        # One family alone below the band fails the allocation, whatever the direction's figure.
        (wire(50, 100, 95.6, 99.9, ipv4=(95.6, 99.9), ipv6=(90.0, 96.9)), "fail"),
        # Without a wire rate (older reports), goodput against the old band: 85-105% of max, 90% of guaranteed together.
        (rates(50, 100, 84.9), "fail"),
        (rates(50, 100, 85.0), "pass"),
        (rates(50, 100, 105.0, 45.0), "pass"),
        (rates(50, 100, 105.1), "fail"),
        (rates(50, 100, 95.2, 44.9), "fail"),
        # A figure without its wire rate falls back alone: the contention goodput with no contention wire rate.
        (wire(50, 100, 95.6, 99.9, 44.9, None), "fail"),
        (wire(50, 100, 95.6, 99.9, 45.0, None), "pass"),
        # Goodput and wire rate share one window: more payload than frames means traffic went around the class.
        (wire(50, 100, 100.0, 100.0, ipv4=(100.0, 100.0)), "pass"),
        (wire(50, 100, 100.1, 100.0, ipv4=(100.1, 100.0)), "fail"),
        (wire(50, 100, 95.6, 99.9, ipv4=(95.6, 99.9), ipv6=(95.0, 0.4)), "fail"),  # IPv6 not in its class at all
        (wire(50, 100, 95.6, 99.9, 60.0, 55.0, ipv4=(95.6, 99.9)), "fail"),  # together as well
        # Not measured: no figure alone; a family entry without figures.
        (wire(50, 100), "not_measured"),
        (wire(50, 100, None, None, 50.2, 52.5), "not_measured"),
        (wire(50, 100, 95.6, 99.9, ipv4=(None, None)), "not_measured"),
    ],
)
def test_verdict_on_the_band(download: dict, expected: str):
    assert judged(download, families=["ipv4", "ipv6"] if "ipv6" in download.get("by_family", {}) else ["ipv4"]) == expected


def test_verdict_of_a_dual_stack_allocation_needs_both_families():
    both = wire(50, 100, 95.6, 99.9, ipv4=(95.8, 99.9), ipv6=(94.3, 99.7))
    up = wire(20, 40, 38.2, 39.95, ipv4=(38.2, 39.95), ipv6=(37.7, 39.9))
    assert judged(both, up, families=["ipv4", "ipv6"]) == "pass"
    only_v4 = wire(50, 100, 95.6, 99.9, ipv4=(95.8, 99.9))
    assert judged(only_v4, up, families=["ipv4", "ipv6"]) == "not_measured"  # measured together, never over IPv6 alone
    assert judged(wire(50, 100, 95.6, 99.9), up, families=["ipv4", "ipv6"]) == "not_measured"  # by_family {}
    # One family: the direction's own figure is that family's; by_family may be empty.
    assert judged(wire(50, 100, 95.6, 99.9), families=["ipv4"]) == "pass"
    # An upload failing over IPv6 alone, the download passing.
    assert judged(both, wire(20, 40, 38.2, 39.95, ipv4=(38.2, 39.95), ipv6=(37.0, 38.7)), families=["ipv4", "ipv6"]) == "fail"


def again(figure: dict, first: tuple, key: str = "first") -> dict:
    """The figure measured once more after `first` = (goodput, wire) was out of the band."""
    return figure | {key: {"measured_mbps": first[0], "wire_mbps": first[1]}}


def test_a_figure_fails_only_if_its_repeat_fails_too():
    up = wire(20, 40, 38.2, 39.95, ipv4=(38.2, 39.95))
    assert judged(again(wire(50, 100, 95.6, 99.9), (92.0, 96.2)), up) == "pass"  # the first out, the repeat in
    assert judged(again(wire(50, 100, 92.2, 96.4), (92.0, 96.2)), up) == "fail"  # both out
    family = wire(50, 100, 95.6, 99.9, ipv4=(95.6, 99.9))
    family["by_family"]["ipv4"] = again(family["by_family"]["ipv4"], (91.0, 95.0))
    assert judged(family, up) == "pass"
    family["by_family"]["ipv4"].update(measured_mbps=91.2, wire_mbps=95.2)
    assert judged(family, up) == "fail"
    together = wire(50, 100, 95.6, 99.9, 46.0, 48.0)
    assert judged(again(together, (44.0, 46.0), "contention_first"), up) == "fail"
    assert judged(again(wire(50, 100, 95.6, 99.9, 46.9, 49.0), (44.0, 46.0), "contention_first"), up) == "pass"


def test_an_older_report_is_not_held_to_goodput_within_the_wire_rate():
    """Before goodput was read over the wire rate's window, iperf3's own seconds could add up to more: not a defect then."""
    dual = wire(10, 20, 24.5, 20.1, ipv4=(19.2, 20.0), ipv6=(18.9, 20.0))
    assert judged(dual, families=["ipv4", "ipv6"], tolerance=OLDER_TOLERANCE) == "pass"
    assert judged(dual, families=["ipv4", "ipv6"]) == "fail"


def test_verdict_takes_the_reports_tolerance():
    download = wire(50, 100, 93.1, 97.0)
    assert judged(download) == "pass" and judged(download, tolerance=None) == "pass"
    assert judged(download, tolerance=TOLERANCE | {"wire_max_low": 0.98}) == "fail"
    assert judged(rates(50, 100, 86.0), tolerance={"max_low": 0.9}) == "fail"  # the other keys from report_data.TOLERANCE
    assert report_data.TOLERANCE == TOLERANCE
    assert [report_data.verdict(a, TOLERANCE) for a in wired()["allocations"]] == [a["verdict"] for a in wired()["allocations"]]


def test_families_of_subnets():
    import ipaddress

    assert report_data.families(["198.18.10.0/24"]) == ["ipv4"]
    assert report_data.families(["2001:db8:10::/48"]) == ["ipv6"]
    assert report_data.families(["2001:db8:10::/48", "198.18.10.0/24", "198.18.11.0/24"]) == ["ipv4", "ipv6"]
    assert report_data.families([ipaddress.ip_network("2001:db8::/48"), ipaddress.ip_network("198.18.0.0/24")]) == ["ipv4", "ipv6"]
    assert report_data.families([]) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["allocations"][0]["download"].update(wire_mbps=96.9), 'allocations.0.verdict: "pass", but its figures say "fail"'),
        (lambda r: r["allocations"][2]["upload"]["by_family"].pop("ipv6"), 'allocations.2.verdict: "pass", but its figures say "not_measured"'),
        (lambda r: r["allocations"][1]["upload"].update(measured_mbps=None, wire_mbps=None), 'allocations.1.verdict: "pass", but its figures say "not_measured"'),
        (lambda r: r["allocations"][4]["download"].update(measured_mbps=40.0), 'allocations.4.verdict: "pass", but its figures say "fail"'),  # the older entry: goodput
        (lambda r: r["allocations"][0].update(not_measured_reason=NOT_ASKED), 'allocations.0.verdict: "pass" with a not_measured_reason'),
        (lambda r: r["allocations"][0]["download"]["by_family"].update(ipv6={"measured_mbps": 1, "wire_mbps": 1}), 'allocations.0.download.by_family: "ipv6" is not one of its families'),
        (lambda r: r["allocations"][1].update(rtt_ms={"family": "ipv4", "idle": 0.1, "loaded": 1}), 'allocations.1.rtt_ms.family: "ipv4" is not one of its families'),
    ],
)
def test_a_pass_its_figures_do_not_support_is_refused(tmp_path: Path, change, message):
    report = wired()
    change(report)
    assert schema_errors(report) == []  # what the schema cannot see
    with pytest.raises(ValueError, match="report does not match") as caught:
        report_files.write_all(report, tmp_path / "out")
    assert message in str(caught.value)
    assert not (tmp_path / "out").exists()
    # A fail is the caller's to give, whatever the figures (asked to measure and nothing measured: fail); a family not its own never fits.
    for item in report["allocations"]:
        item["verdict"] = "fail"
    if "families" in message:
        with pytest.raises(ValueError, match=re.escape(message)):
            report_data.validate(report)
    else:
        assert report_data.validate(report)


def test_markdown_with_the_wire_rates_matches_the_expected_sample(tmp_path: Path):
    # To update after an intended change: copy report.md of this report to tests/expected/report-wire.md.
    text = written(wired(), tmp_path)["report.md"].read_text(encoding="utf-8")
    assert text == (EXPECTED / "report-wire.md").read_text(encoding="utf-8")


def test_markdown_shows_goodput_wire_rate_families_rtt_and_the_reason(tmp_path: Path):
    text = written(wired(), tmp_path)["report.md"].read_text(encoding="utf-8")
    rows = {line.split(" | ")[0].removeprefix("| ").split(" ")[0]: line.split(" | ") for line in text.splitlines() if line.startswith("| BW-")}
    assert all(len(cells) == 9 for cells in rows.values())
    # IPv4 only: wire / goodput, together in brackets; one family, so no figures per family; RTT idle -> loaded.
    assert rows["BW-2026-0001"][4:8] == ["99,9 / 95,6 (bersama 52,5 / 50,2)", "20 / 40", "39,95 / 38,2<br>diukur ulang, pertama: 38,4 / 36,5", "0,08 → 41,7"]
    assert rows["BW-2026-0002"][4] == "80,1 / 75,5 (bersama 41,2 / 38,9)" and rows["BW-2026-0002"][7] == "0,09 → 35,2"
    # Dual-stack: both families at once, then each alone; the RTT names its family.
    assert rows["BW-2026-0003"][4] == "199,6 / 190,4 (bersama 103,2 / 98,9)<br>IPv4 199,8 / 191,2 · IPv6 199,5 / 188,3"
    assert rows["BW-2026-0003"][6] == "59,9 / 57,1 (bersama 41,3 / 39,1)<br>IPv4 59,9 / 57,3 · IPv6 59,8 / 56,5"
    assert rows["BW-2026-0003"][7] == "0,1 → 52,3 (IPv4)"
    # Not measured, with its reason (escaped for Markdown); an older entry shows its goodput only.
    assert rows["BW-2026-0004"][4:9] == ["-", "10 / 20", "-", "-", "Tidak diukur: tidak diminta (bandwidth\\_verify\\_measure=changed) |"]
    assert rows["BW-2026-0005"][4:8] == ["- / 48 (bersama - / 26)", "10 / 20", "- / 19,2", "-"]
    assert rows["BW-2026-0006"][4].endswith("<br>IPv4 59,9 / 57,2 · IPv6 55,1 / 52<br>diukur ulang, pertama: IPv6 55,4 / 52,3") and rows["BW-2026-0006"][8] == "**Gagal** |"
    assert rows["BW-2026-0006"][7] == "0,12 → - (IPv6)"
    # The footnote: how goodput and wire rate relate, the band on the wire (and goodput for the older entry), the RTT.
    note = next(line for line in text.splitlines() if line.startswith("Angka dalam Mbit/s"))
    for words in (
        "termasuk header Ethernet 14 byte per paket; laju inilah yang dibatasi shaper",
        "muatan TCP saja tanpa header IP dan TCP (header IPv6 20 byte lebih panjang daripada IPv4)",
        "pada MTU 1500 byte goodput sekitar 95% dari laju di kabel",
        "Keduanya dibaca pada rentang waktu yang sama; goodput alokasi dual-stack adalah jumlah IPv4 dan IPv6 pada rentang itu.",
        "Lulus bila laju di kabel (L2) 97%-103% dari maksimum saat sendiri (juga tiap keluarga alamat) dan minimal 97% dari jaminan saat dipakai bersama, "
        "dengan goodput iperf3 tidak melebihi 100% dari laju di kabel pada waktu yang sama (lebih dari itu berarti sebagian lalu lintas alokasi lolos "
        "dari kelasnya); angka di luar rentang diukur ulang sekali dan baru gagal bila ulangannya juga di luar rentang "
        "(angka tanpa laju di kabel: iperf3 85%-105% dari maksimum dan minimal 90% dari jaminan saat bersama).",
        "di lab (antrean pfifo) RTT saat beban memang naik (bufferbloat), di produksi fq_codel menjaganya tetap rendah.",
    ):
        assert words in note, words
    # Without the older entry, no goodput band.
    report = wired()
    del report["allocations"][4]
    assert "angka tanpa laju di kabel" not in report_markdown.render_markdown(report)


def result_line(report: dict) -> str:
    return report_markdown.render_markdown(report).split("**Hasil: ")[1].split("**")[0]


def test_the_result_never_says_all_passed_with_an_allocation_not_measured():
    report = wired()
    del report["allocations"][5]  # the failure: four pass, one not measured
    assert result_line(report) == "4 alokasi lulus, 1 tidak diukur (1 karena tidak diminta (bandwidth\\_verify\\_measure=changed))."
    assert report_text.result_text(report) == "4 alokasi lulus, 1 tidak diukur (1 karena tidak diminta (bandwidth_verify_measure=changed))"
    # Reasons counted, the most frequent first; one without a reason said so.
    for i, reason in enumerate(["tidak ada klien lab", "tidak ada klien lab", None, NOT_ASKED, "tidak ada klien lab"], start=7):
        extra = allocation(f"BW-2026-{i:04d}", "gw-samarinda", "isp-a", "Dinas X", changed=False, github=None, verdict="not_measured", not_measured_reason=reason)
        report["allocations"].append(extra | {"download": wire(5, 10), "upload": wire(5, 10)})
    assert report_text.result_text(report) == "4 alokasi lulus, 6 tidak diukur (3 karena tidak ada klien lab; 2 karena tidak diminta (bandwidth_verify_measure=changed); 1 tanpa alasan tercatat)"
    # Nothing measured: never "semua"; an older report without reasons as before.
    for item in report["allocations"]:
        item.update(verdict="not_measured", not_measured_reason="produksi: hanya pembacaan ulang")
    assert result_line(report) == "tidak ada alokasi yang diukur (10 karena produksi&#58; hanya pembacaan ulang)."
    older = sample()
    del older["allocations"][2]  # the failure
    assert report_text.result_text(older) == "2 alokasi lulus, 1 tidak diukur"
    # Whatever mix of verdicts: "semua" only when every allocation passed.
    for verdicts in (["pass", "not_measured"], ["not_measured"], ["pass", "pass", "not_measured"], ["pass", "fail", "not_measured"], ["pass", "pass"]):
        mixed = sample()
        mixed["allocations"] = [dict(older["allocations"][0], id=f"BW-2026-{i:04d}", verdict=v) for i, v in enumerate(verdicts, start=1)]
        for item in mixed["allocations"]:
            if item["verdict"] == "not_measured":
                item["download"] = item["upload"] = rates(1, 2)
        says_all = "semua" in result_line(mixed)
        assert says_all == (set(verdicts) == {"pass"}), (verdicts, result_line(mixed))


def test_html_shows_wire_rate_goodput_families_rtt_and_the_reason(tmp_path: Path):
    html = written(wired(), tmp_path)["report.html"].read_text(encoding="utf-8")
    chart = re.search(r'<svg id="chart-allocations".*?</svg>', html, re.S).group()
    # Bars: the wire rate in the verdict's colour, goodput pale below it; the legend has one of each.
    assert chart.count('<rect class="pass" ') == 1 + 3 * 2  # BW-2026-0001, -0002, -0003; the older BW-2026-0005 has no wire rate
    assert chart.count('<rect class="pass goodput" ') == 1 + 4 * 2
    assert chart.count('<rect class="fail" ') == 1 + 2 and chart.count('<rect class="fail goodput" ') == 2
    assert chart.count('<circle class="contention" ') == 1 + 6 and chart.count('<circle class="contention-goodput" ') == 1 + 7
    assert chart.count('class="guaranteed"') == 1 + 6 * 2
    assert "di kabel (L2), lulus" in chart and "iperf3 (goodput)" in chart and "bersama, iperf3" in chart
    assert "maks 100 · jaminan 50 · L2 99,9 · iperf3 95,6" in chart and "bersama&#58; L2 52,5 · iperf3 50,2" in chart
    assert "IPv4 199,8 / 191,2 · IPv6 199,5 / 188,3 (L2 / iperf3)" in chart
    assert "RTT 0,1 → 52,3 (IPv4) ms" in chart and "RTT 0,08 → 41,7 ms" in chart
    assert "tidak diukur&#58; tidak diminta (bandwidth_verify_measure=changed)" in chart
    # The table: figures a line each, RTT, the reason under the verdict.
    assert "<th>Unduh di kabel (L2) / iperf3</th>" in html and "<th>RTT idle → beban (ms)</th>" in html
    assert '<td class="num">199,6 / 190,4<br>bersama 103,2 / 98,9<br>IPv4 199,8 / 191,2<br>IPv6 199,5 / 188,3</td>' in html
    assert '<td class="num">- / 48<br>bersama - / 26</td>' in html  # the older entry
    assert '<td class="rtt">0,1 → 52,3 (IPv4)</td>' in html and '<td class="rtt">0,12 → - (IPv6)</td>' in html
    assert '<td class="v-not_measured">Tidak diukur<br><small class="reason">tidak diminta (bandwidth_verify_measure=changed)</small></td>' in html
    # The footnote and the pass band on the wire.
    assert "termasuk header Ethernet 14 byte per paket; laju inilah yang dibatasi shaper." in html
    assert "di lab (antrean pfifo) RTT saat beban memang naik (bufferbloat), di produksi fq_codel menjaganya tetap rendah." in html
    assert "<dt>Syarat lulus</dt><dd>laju di kabel (L2) 97%-103% dari maksimum saat sendiri" in html
    # The result: red with a failure, grey with an allocation not measured, green only when every allocation passed.
    assert '<p class="result bad">Hasil: 1 alokasi gagal. (4 lulus, 1 gagal, 1 tidak diukur; 0 drift)</p>' in html
    report = wired()
    del report["allocations"][5]
    partial = written(report, tmp_path / "partial")["report.html"].read_text(encoding="utf-8")
    assert '<p class="result partial">Hasil: 4 alokasi lulus, 1 tidak diukur (1 karena tidak diminta (bandwidth_verify_measure=changed)).' in partial
    del report["allocations"][3]
    assert '<p class="result">Hasil: semua 4 alokasi lulus.' in written(report, tmp_path / "all")["report.html"].read_text(encoding="utf-8")


def results_table(path: Path) -> list[list[str]]:
    """The letter's table of measured results (the one headed Arah), as rows of cell texts."""
    table = next(t for t in docx.Document(str(path)).tables if t.cell(0, 0).text == "Arah")
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_docx_letter_shows_wire_rate_goodput_families_and_rtt(tmp_path: Path):
    report = wired()
    report["allocations"][1]["changed"] = True  # the IPv6-only allocation gets a letter too
    files = written(report, tmp_path)
    header = ["Arah", "Jaminan", "Maksimum", "Di kabel (L2)", "iperf3", "Bersama, di kabel (L2)", "Bersama, iperf3"]
    # IPv4 only: one row per direction.
    path = files["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"]
    assert results_table(path) == [
        header,
        ["Unduh", "50", "100", "99,9", "95,6", "52,5", "50,2"],
        ["Unggah", "20", "40", "39,95", "38,2", "-", "-"],
        ["Unggah, pengukuran pertama (diukur ulang)", "", "", "38,4", "36,5", "", ""],  # out of the band once, the repeat above
    ]
    letter = docx_text(path)
    assert "Waktu pulang-pergi (RTT) ping dari klien melalui gateway, IPv4: 0,08 ms saat idle, 41,7 ms saat unduhan alokasi ini jenuh." in letter
    assert "Hasil: Lulus. Bandwidth terpasang dan berfungsi sesuai konfigurasi." in letter
    # The footnote: what each rate counts, the band, the RTT under pfifo and fq_codel.
    assert "termasuk header Ethernet 14 byte per paket; laju inilah yang dibatasi shaper" in letter
    assert "goodput sekitar 95% dari laju di kabel" in letter and "header IPv6 20 byte lebih panjang daripada IPv4" in letter
    assert "Syarat lulus: laju di kabel (L2) 97%-103% dari maksimum saat sendiri" in letter
    assert "di produksi fq_codel menjaganya tetap rendah" in letter
    # IPv6 only.
    path = files["Laporan_Penyelesaian_Tugas_BW-2026-0002.docx"]
    assert results_table(path)[1:] == [["Unduh", "40", "80", "80,1", "75,5", "41,2", "38,9"], ["Unggah", "15", "30", "30,05", "28,3", "15,4", "14,6"]]
    assert "(RTT) ping dari klien melalui gateway, IPv6: 0,09 ms saat idle, 35,2 ms" in docx_text(path)
    # Dual-stack: each family alone under its direction.
    assert results_table(files["Laporan_Penyelesaian_Tugas_BW-2026-0003.docx"])[1:] == [
        ["Unduh", "100", "200", "199,6", "190,4", "103,2", "98,9"],
        ["Unduh, IPv4 saja", "", "", "199,8", "191,2", "", ""],
        ["Unduh, IPv6 saja", "", "", "199,5", "188,3", "", ""],
        ["Unggah", "40", "60", "59,9", "57,1", "41,3", "39,1"],
        ["Unggah, IPv4 saja", "", "", "59,9", "57,3", "", ""],
        ["Unggah, IPv6 saja", "", "", "59,8", "56,5", "", ""],
    ]
    # The dual-stack failure: IPv6 alone short of the band on the wire.
    path = files["Laporan_Penyelesaian_Tugas_BW-2026-0006.docx"]
    assert ["Unduh, IPv6 saja", "", "", "55,1", "52", "", ""] in results_table(path)
    assert ["Unduh, IPv6 saja, pengukuran pertama", "", "", "55,4", "52,3", "", ""] in results_table(path)
    assert "Hasil: Gagal. Hasil pengukuran belum memenuhi syarat (laju di kabel (L2) 97%-103%" in docx_text(path)
    assert "IPv6: 0,12 ms saat idle, - ms saat unduhan" in docx_text(path)


def test_the_letter_of_an_allocation_not_measured_says_so_and_why(tmp_path: Path):
    files = written(wired(), tmp_path)
    path = files["Laporan_Penyelesaian_Tugas_BW-2026-0004.docx"]
    letter = docx_text(path)
    assert (
        "Hasil: Tidak diukur. Throughput tidak diukur; alasan: tidak diminta (bandwidth_verify_measure=changed). "
        "Bandwidth ini belum diverifikasi dengan pengukuran; konfigurasinya diperiksa dengan membaca kembali pengaturan gateway." in letter
    )
    for claim in ("Bandwidth terpasang", "berfungsi sesuai konfigurasi", "Lulus", "Syarat lulus", "RTT"):
        assert claim not in letter, claim
    assert results_table(path)[1:] == [["Unduh", "25", "50", "-", "-", "-", "-"], ["Unggah", "10", "20", "-", "-", "-", "-"]]
    # Without a recorded reason (an older report), the letter says that none was recorded.
    report = wired()
    report["allocations"][3]["not_measured_reason"] = None
    letter = docx_text(written(report, tmp_path / "none")["Laporan_Penyelesaian_Tugas_BW-2026-0004.docx"])
    assert "Throughput tidak diukur; alasan: tidak tercatat. Bandwidth ini belum diverifikasi dengan pengukuran" in letter
    # A failure with a reason carries it too (asked to measure, and nothing came back).
    report["allocations"][3].update(verdict="fail", not_measured_reason="iperf3 tanpa hasil")
    letter = docx_text(written(report, tmp_path / "fail")["Laporan_Penyelesaian_Tugas_BW-2026-0004.docx"])
    assert "Hasil: Gagal. Hasil pengukuran belum memenuhi syarat" in letter and "Catatan pengukuran: iperf3 tanpa hasil." in letter
    assert "Bandwidth terpasang" not in letter


def test_a_hostile_reason_shows_literally_everywhere(tmp_path: Path):
    """The reason is the report's text, not a request's; it is escaped for each format all the same."""
    report = wired()
    report["allocations"][3]["not_measured_reason"] = HOSTILE_REASON
    files = written(report, tmp_path)
    text = files["report.md"].read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| BW-2026-0004"))
    assert row.count(" | ") == 8 and "<script>" not in text and "**x**" not in text and "@octocat" not in text and "\x07" not in text
    # Cut to 100 characters before escaping, so that no escape is cut.
    assert row.endswith(" | Tidak diukur: unreachable&#58; Failed to connect to the host via ssh&#58; &lt;script&gt;alert(1)&lt;/script&gt; \\*\\*x\\*\\* &#64;octocat \\[a\\](ht… |")
    assert not re.search(r"(?<!\\)\]\(", text)
    html = files["report.html"].read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "\x07" not in html
    assert '<small class="reason">unreachable&#58; Failed to connect to the host via ssh&#58; &lt;script&gt;alert(1)&lt;/script&gt;' in html
    letter = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0004.docx"])
    assert "alasan: unreachable: Failed to connect to the host via ssh: <script>alert(1)</script> **x** @octocat [a](http://evil) kex `rm`." in letter
    assert "\x07" not in letter


def test_an_emergency_apply_is_said_in_the_report(tmp_path: Path):
    report = wired() | {"emergency": {"login": "dewi-lestari-infra", "time": "2026-11-28T01:00:00Z", "reason": "gangguan layanan RSUD <b>x</b>"}}
    files = written(report, tmp_path)
    markdown = files["report.md"].read_text(encoding="utf-8")
    assert "Penerapan darurat tanpa catatan disposisi lengkap, atas permintaan dewi-lestari-infra pada 28 November 2026 pukul 09.00 WITA" in markdown
    assert "<b>" not in markdown and "&lt;b&gt;" in markdown  # the reason is anyone's text
    html = files["report.html"].read_text(encoding="utf-8")
    assert "Penerapan darurat tanpa catatan disposisi lengkap" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "Penerapan darurat" not in written(wired(), tmp_path / "none")["report.md"].read_text(encoding="utf-8")
