"""`bandwidth from-issue --form`: the forms about an allocation already there (change, extend, give back) become
that file changed, moved or removed, checked as the new-request form is; a form that cannot be gets one message
naming the field, in Bahasa Indonesia."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import ROOT, Repo

TEMPLATES = ROOT / ".github/ISSUE_TEMPLATE"
AGENCY = "Dinas Uji Coba Provinsi Kalimantan Timur"
COMMON = {
    "id": "BW-2026-0001",
    "agency": AGENCY,
    "letter_number": "002/UJI/2026",
    "letter_date": "2026-11-25",
    "contact_name": "Sari Dewi",
    "contact_email": "sari@example.go.id",
}
PATH = "allocations/gw-a/BW-2026-0001.yaml"


def body(form: str, answers: dict) -> str:
    """The issue body GitHub writes for a submitted form: one `### label` section per field, `_No response_` when empty."""
    items = yaml.safe_load((TEMPLATES / f"{form}.yml").read_text())["body"]
    labels = {item["id"]: item["attributes"]["label"] for item in items if item.get("id")}
    return "".join(f"### {labels[field]}\n\n{answers.get(field) or '_No response_'}\n\n" for field in labels)


@pytest.fixture
def held(repo: Repo) -> Repo:
    """gw-a holds BW-2026-0001 (10/20 down, 5/10 up, until 2026-12-31) and BW-2026-0002 of another agency."""
    for template in TEMPLATES.glob("*-bandwidth.yml"):
        (repo.path / ".github/ISSUE_TEMPLATE").mkdir(parents=True, exist_ok=True)
        shutil.copy(template, repo.path / ".github/ISSUE_TEMPLATE" / template.name)
    repo.request("BW-2026-0001", end="2026-12-31")
    repo.request("BW-2026-0002", agency="Dinas Lain", subnets="[198.18.2.0/24]")
    return repo


def submit(repo: Repo, form: str, **answers: str):
    repo.write("issue.md", body(form, {**COMMON, "reason": "Layanan baru", **answers}))
    done = repo.run("from-issue", "--form", form, "--body-file", "issue.md", "--github", "sari-dewi", "--today", "2026-11-28", today=None)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def held_file(repo: Repo, rel: str = PATH) -> dict:
    return yaml.safe_load((repo.path / rel).read_text())


def test_a_change_sets_what_the_form_fills_and_keeps_the_rest(held: Repo):
    done = submit(held, "perubahan-bandwidth", download_max="30", priority="1")
    assert done.returncode == 0, done.stdout
    assert done.stdout == f"write {PATH}\n"
    after = held_file(held)
    assert after["download"] == {"guaranteed_mbps": 10, "max_mbps": 30} and after["upload"] == {"guaranteed_mbps": 5, "max_mbps": 10}
    assert after["priority"] == 1 and str(after["end"]) == "2026-12-31" and after["subnets"] == ["198.18.1.0/24"]
    # The new letter and contact: the requester the chain's rules now apply to.
    assert after["letter"]["number"] == "002/UJI/2026" and after["contact"] == {"name": "Sari Dewi", "email": "sari@example.go.id", "github": "sari-dewi"}
    assert held.check().returncode == 0


def test_a_change_of_gateway_moves_the_file(held: Repo):
    done = submit(held, "perubahan-bandwidth", gateway="gw-b", subnets="198.18.17.0/24")
    assert done.returncode == 0, done.stdout
    assert done.stdout == f"remove {PATH}\nwrite allocations/gw-b/BW-2026-0001.yaml\n"
    assert not (held.path / PATH).exists() and held_file(held, "allocations/gw-b/BW-2026-0001.yaml")["gateway"] == "gw-b"


def test_a_change_that_does_not_fit_names_the_field_and_leaves_the_file(held: Repo):
    before = (held.path / PATH).read_bytes()
    done = submit(held, "perubahan-bandwidth", gateway="gw-b")  # its subnet is not behind gw-b
    assert done.returncode == 1
    assert "- Kolom «Subnet baru» tidak valid: ` subnet 198.18.1.0/24 is outside the networks behind gw-b" in done.stdout
    assert (held.path / PATH).read_bytes() == before and not (held.path / "allocations/gw-b").exists()


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ({"id": "BW-2026-0099"}, "- Kolom «ID alokasi»: alokasi ` BW-2026-0099 ` tidak ditemukan."),
        ({"id": "../../etc/passwd"}, "- Kolom «ID alokasi» harus ID alokasi seperti `BW-2026-0001`."),
        ({"id": "BW-2026-0002"}, "- Kolom «Nama instansi (OPD)»: alokasi ` BW-2026-0002 ` tercatat atas nama instansi lain."),
        ({"letter_number": "001/UJI/2026"}, "- Kolom «Nomor Surat Permohonan»: sama dengan surat yang tercatat pada alokasi ini."),
        ({"download_max": "20"}, "- Formulir ini tidak mengubah apa pun pada alokasi ` BW-2026-0001 `"),  # 20 is its maximum already
        ({"download_max": "banyak"}, "- Kolom «Unduh (download) maksimum baru, Mbit/s» tidak valid: isi angka Mbit/s"),
        ({"download_guaranteed": "25"}, "tidak valid: ` download: guaranteed_mbps (25) is more than max_mbps (20) `"),
    ],
    ids=["unknown id", "not an id", "another agency", "same letter", "nothing changes", "not a number", "guaranteed above max"],
)
def test_a_change_that_cannot_be_is_told_which_field(held: Repo, answers: dict, said: str):
    before = (held.path / PATH).read_bytes()
    done = submit(held, "perubahan-bandwidth", **answers)
    assert done.returncode == 1 and done.stdout.startswith("Permohonan belum dapat diproses.")
    assert said in done.stdout, done.stdout
    assert (held.path / PATH).read_bytes() == before


def test_an_extension_sets_a_later_end_or_none(held: Repo):
    assert submit(held, "perpanjangan-bandwidth", end="2027-06-30").returncode == 0
    assert str(held_file(held)["end"]) == "2027-06-30"
    assert submit(held, "perpanjangan-bandwidth", end="Tanpa batas", letter_number="003/UJI/2026").returncode == 0
    assert "end" not in held_file(held)
    done = submit(held, "perpanjangan-bandwidth", end="2028-01-01", letter_number="004/UJI/2026")
    assert done.returncode == 1 and "tidak berbatas waktu: tidak ada yang perlu diperpanjang" in done.stdout


def test_an_extension_is_honoured_by_the_schedule_past_the_old_end(held: Repo):
    """The day after the old end: still shaped (render), not expired (the check the expiry job reads); after the new end it is."""

    def shaped_and_expired(day: str) -> tuple[bool, bool]:
        rendered = held.run("render", "--gateway", "gw-a", "--today", day, today=None)
        checked = held.run("check", "--today", day, today=None)
        return "BW-2026-0001" in rendered.stdout, "BW-2026-0001.yaml" in checked.stdout and "expired on" in checked.stdout

    assert shaped_and_expired("2027-01-01") == (False, True)  # before: ended on 2026-12-31
    assert submit(held, "perpanjangan-bandwidth", end="2027-06-30").returncode == 0
    assert shaped_and_expired("2027-01-01") == (True, False)
    assert shaped_and_expired("2027-07-01") == (False, True)


def test_an_extension_that_shortens_points_to_the_give_back_form(held: Repo):
    done = submit(held, "perpanjangan-bandwidth", end="2026-12-15")
    assert done.returncode == 1 and "harus sesudah tanggal berakhir yang sekarang (2026-12-31)" in done.stdout
    assert "formulir Pengembalian / Pencabutan Bandwidth" in done.stdout
    done = submit(held, "perpanjangan-bandwidth", end="31-12-2027")
    assert done.returncode == 1 and "- Kolom «Tanggal berakhir baru» harus tanggal dengan format TTTT-BB-HH" in done.stdout


def test_a_give_back_ends_on_a_date_or_removes_the_file(held: Repo):
    done = submit(held, "pengembalian-bandwidth", how="Berakhir pada tanggal", end="2026-12-10")
    assert done.returncode == 0 and done.stdout == f"write {PATH}\n" and str(held_file(held)["end"]) == "2026-12-10"
    done = submit(held, "pengembalian-bandwidth", how="Cabut sekarang", letter_number="003/UJI/2026")
    assert done.returncode == 0 and done.stdout == f"remove {PATH}\n" and not (held.path / PATH).exists()


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ({"how": "Berakhir pada tanggal"}, "- Kolom «Tanggal berakhir» belum diisi"),
        ({"how": "Berakhir pada tanggal", "end": "2026-11-01"}, "sudah lewat: isi hari ini (2026-11-28) atau sesudahnya"),
        ({"how": "Berakhir pada tanggal", "end": "2027-02-01"}, "sudah berakhir pada 2026-12-31; tanggal pengembalian harus sebelumnya"),
        ({}, "- Kolom «Cara pengembalian» belum diisi."),
        ({"how": "Cabut sekarang", "reason": ""}, "- Kolom «Alasan pengembalian» belum diisi."),
    ],
    ids=["no date", "past date", "not earlier", "no choice", "no reason"],
)
def test_a_give_back_that_cannot_be_is_told_which_field(held: Repo, answers: dict, said: str):
    done = submit(held, "pengembalian-bandwidth", **answers)
    assert done.returncode == 1 and said in done.stdout, done.stdout
    assert (held.path / PATH).exists()


def test_hostile_answers_are_quoted_not_rendered(held: Repo):
    done = submit(held, "perubahan-bandwidth", id="BW-2026-0099", agency="<img src=x> @kasi-1 `x`")
    assert done.returncode == 1
    assert "<img" not in done.stdout and "@kasi-1" not in done.stdout  # the agency's text is not repeated at all
    done = submit(held, "perubahan-bandwidth", priority="9 <b>")
    assert done.returncode == 1 and "- Kolom «Prioritas baru» harus angka 0 sampai 7." in done.stdout and "<b>" not in done.stdout


def test_the_cli_offers_every_form(held: Repo):
    from bandwidth.allocations import intake

    shown = held.run("from-issue", "--help", today=None).stdout
    assert all(form in shown for form in intake.FORMS) and len(intake.FORMS) == 4
