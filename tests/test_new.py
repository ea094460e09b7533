"""`bandwidth new` writes a request that passes `bandwidth check`."""

from __future__ import annotations

from conftest import Repo

FLAGS = [
    "--agency", "Dinas Kelautan dan Perikanan Provinsi Kalimantan Timur",
    "--letter-number", "523/0101/DKP-XI/2026", "--letter-date", "2026-11-20",
    "--contact-name", "Lina Marlina", "--contact-email", "lina@example.go.id", "--github", "lina-m",
    "--gateway", "gw-a", "--uplink", "isp-a", "--subnet", "198.18.5.0/24", "--subnet", "2001:db8:a:5::/64",
    "--download", "25:50", "--upload", "10.5:20", "--priority", "3", "--start", "2026-12-01",
    "--purpose", "Sistem informasi perikanan: pelaporan # hasil tangkapan",
]  # fmt: skip


def test_new_writes_a_valid_file_with_the_next_id(repo: Repo):
    repo.request("BW-2026-0007", subnets="[198.18.1.0/24]")
    done = repo.run("new", *FLAGS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "allocations/gw-a/BW-2026-0008.yaml"
    text = (repo.path / "allocations/gw-a/BW-2026-0008.yaml").read_text()
    assert "id: BW-2026-0008\n" in text
    assert "upload: {guaranteed_mbps: 10.5, max_mbps: 20}\n" in text
    assert 'purpose: "Sistem informasi perikanan: pelaporan # hasil tangkapan"\n' in text
    assert repo.check().returncode == 0


def test_new_starts_at_0001_in_a_new_year(repo: Repo):
    repo.request("BW-2025-0042", subnets="[198.18.1.0/24]", start="2025-01-01")
    done = repo.run("new", *FLAGS, "--stdout")
    assert "id: BW-2026-0001\n" in done.stdout


def test_new_without_a_terminal_names_the_missing_flags(repo: Repo):
    done = repo.run("new", "--agency", "Dinas Uji")
    assert done.returncode == 2
    assert "missing --letter-number, --letter-date, --contact-name" in done.stderr


def test_new_refuses_a_request_that_does_not_fit(repo: Repo):
    flags = list(FLAGS)
    flags[flags.index("25:50")] = "95:100"
    done = repo.run("new", *flags)
    assert done.returncode == 1
    assert "download capacity of gw-a/isp-a exceeded" in done.stderr
    assert not (repo.path / "allocations/gw-a").exists()


def test_new_rejects_a_bad_rate_flag(repo: Repo):
    flags = list(FLAGS)
    flags[flags.index("25:50")] = "25"
    done = repo.run("new", *flags)
    assert done.returncode == 2
    assert "--download takes guaranteed:max in Mbit/s" in done.stderr


def test_new_asks_on_a_terminal(repo: Repo):
    import os
    import pty
    import subprocess

    from conftest import BANDWIDTH, TODAY

    answers = ["Dinas Uji Terminal", "001/UJI/2026", "2026-11-20", "Penguji", "penguji@example.go.id", "", "gw-a", "isp-b", "198.18.9.0/24", "5:10", "5:10", "2", "2026-12-01", "", "Uji coba"]
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([BANDWIDTH, "new", f"--today={TODAY}"], cwd=repo.path, stdin=child_fd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(child_fd)
    os.write(main_fd, ("\n".join(answers) + "\n").encode())
    out, err = proc.communicate(timeout=60)
    os.close(main_fd)
    assert proc.returncode == 0, err
    assert out.strip() == "allocations/gw-a/BW-2026-0001.yaml"
    text = (repo.path / out.strip()).read_text()
    assert "uplink: isp-b\n" in text and "agency: Dinas Uji Terminal\n" in text
