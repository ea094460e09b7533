"""The pictures of the guides (docs/panduan/), from the last run on the lab: `make docs-images`.

Reads reports/latest/ (make lab: the completion report, its letters, the availability list) and
reports/monitoring/latest/ (make monitor), and writes docs/gambar/*.png: the HTML pages through headless
Chromium, the letter of BW-2026-0001 through LibreOffice and pdftoppm (first page). Nothing here leaves the machine:
Chromium loads local files only (the pages forbid loading anything by their Content-Security-Policy).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "chromium"
PAGES = {  # picture -> (page, window width, height)
    "laporan-penyelesaian.png": (ROOT / "reports/latest/report.html", 1200, 1500),
    "daftar-kesediaan.png": (ROOT / "reports/latest/daftar-kesediaan.html", 1400, 1000),
    "laporan-monitoring.png": (ROOT / "reports/monitoring/latest/monitoring.html", 1200, 1400),
}
LETTER = ROOT / "reports/latest/Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"


def screenshot(page: Path, picture: Path, width: int, height: int, profile: Path) -> None:
    argv = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
        f"--screenshot={picture}", f"--window-size={width},{height}", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    if not picture.exists():
        sys.exit(f"render: chromium made no picture of {page}: {done.stderr.strip()[-400:]}")


def letter(document: Path, picture: Path, folder: Path) -> None:
    """The letter's first page: LibreOffice makes the PDF (its Writer has no PNG filter without a GUI), pdftoppm the picture."""
    argv = ["soffice", "--headless", f"-env:UserInstallation={(folder / 'lo').as_uri()}", "--convert-to", "pdf", "--outdir", str(folder), str(document)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    pdf = folder / (document.stem + ".pdf")
    if not pdf.exists():
        sys.exit(f"render: LibreOffice made no PDF of {document}: {(done.stderr or done.stdout).strip()[-400:]}")
    done = subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(folder / "letter")], capture_output=True, text=True, timeout=120, check=False)
    if not (folder / "letter.png").exists():
        sys.exit(f"render: pdftoppm made no picture of {pdf}: {done.stderr.strip()[-400:]}")
    shutil.move(folder / "letter.png", picture)


def main() -> int:
    missing = [str(p) for p, *_ in PAGES.values() if not p.exists()] + ([str(LETTER)] if not LETTER.exists() else [])
    if missing:
        sys.exit("render: run `make lab` and `make monitor` first; missing: " + ", ".join(missing))
    with tempfile.TemporaryDirectory(prefix="bandwidth-docs-") as folder:
        for name, (page, width, height) in PAGES.items():
            screenshot(page, OUT / name, width, height, Path(folder) / "profile")
            print(f"docs/gambar/{name} <- {page.relative_to(ROOT)}")
        letter(LETTER, OUT / "surat-laporan.png", Path(folder))
        print(f"docs/gambar/surat-laporan.png <- {LETTER.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
