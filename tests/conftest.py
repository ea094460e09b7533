"""Shared fixtures: a throwaway repository, the real `bandwidth` command, and a lab of a repository copy."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

# Tests make throwaway repositories: git run from a hook or `git rebase -x` exports GIT_DIR and
# friends, which would point their git commands at this repository instead.
for _name in [name for name in os.environ if name.startswith("GIT_")]:
    del os.environ[_name]

ROOT = Path(__file__).resolve().parent.parent
BANDWIDTH = str(Path(sys.executable).with_name("bandwidth"))
TODAY = "2026-11-28"

INVENTORY_HOSTS = """\
all:
  children:
    gateways:
      hosts:
        gw-a: {}
        gw-b: {}
"""
GW_A = """\
bandwidth_lan_networks: [198.18.0.0/20, 2001:db8:a::/48]
bandwidth_uplinks:
  - {name: isp-a, download_mbps: 100, upload_mbps: 50, reserve_percent: 10, lan_interface: eth1}
  - {name: isp-b, download_mbps: 50, upload_mbps: 50, reserve_percent: 0, lan_interface: eth2}
"""
GW_B = """\
bandwidth_lan_networks: [198.18.16.0/20]
bandwidth_uplinks:
  - {name: isp-a, download_mbps: 100, upload_mbps: 100, reserve_percent: 20, lan_interface: eth1}
"""

# The lines of a request file, in order; tests replace, drop or add keys by name.
BASE_FIELDS = {
    "id": None,  # filled from the file name
    "agency": "Dinas Uji Coba Provinsi Kalimantan Timur",
    "letter": "{number: 001/UJI/2026, date: 2026-11-01}",
    "contact": "{name: Penguji, email: penguji@example.go.id}",
    "gateway": None,  # filled from the folder
    "uplink": "isp-a",
    "subnets": "[198.18.1.0/24]",
    "download": "{guaranteed_mbps: 10, max_mbps: 20}",
    "upload": "{guaranteed_mbps: 5, max_mbps: 10}",
    "priority": "3",
    "start": "2026-11-01",
    "purpose": "Pengujian",
}


def request_text(request_id: str, gateway: str, drop=(), **fields) -> str:
    values = {**BASE_FIELDS, "id": request_id, "gateway": gateway}
    values.update({k: v for k, v in fields.items()})
    return "".join(f"{key}: {value}\n" for key, value in values.items() if key not in drop)


@dataclass
class Repo:
    path: Path

    def write(self, rel: str, content: str | bytes) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def request(self, request_id: str, gateway: str = "gw-a", drop=(), **fields) -> str:
        rel = f"allocations/{gateway}/{request_id}.yaml"
        self.write(rel, request_text(request_id, gateway, drop, **fields))
        return rel

    def run(self, *args: str, today: str | None = TODAY, stdin: str | None = None) -> subprocess.CompletedProcess:
        argv = [BANDWIDTH, *args]
        if today and args and args[0] in ("check", "new"):
            argv.append(f"--today={today}")
        return subprocess.run(argv, cwd=self.path, capture_output=True, text=True, input=stdin, timeout=120, check=False)

    def check(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run("check", *args, **kwargs)

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Uji", "GIT_AUTHOR_EMAIL": "uji@example.go.id", "GIT_COMMITTER_NAME": "Uji", "GIT_COMMITTER_EMAIL": "uji@example.go.id"}
        return subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, check=True, env=env).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path)
    r.write("inventory/production/hosts.yml", INVENTORY_HOSTS)
    r.write("inventory/production/host_vars/gw-a.yml", GW_A)
    r.write("inventory/production/host_vars/gw-b.yml", GW_B)
    (tmp_path / "allocations").mkdir()
    return r


@pytest.fixture
def lab_plan(repo: Repo):
    """The lab's plan of the throwaway repository, made as `bandwidth lab up` makes it before it
    builds anything: its inventory and allocations loaded, planned for a date. No root, no namespaces.
    `order` rearranges the loaded allocations first."""
    from bandwidth.allocations import loader
    from bandwidth.lab import topology

    def make(today: str = TODAY, clients: bool = True, order=list) -> dict:
        inventory, problems = loader.load_inventory(repo.path, "inventory/production")
        assert not problems, [p.message for p in problems]
        allocations, found, _blobs, _files = loader.load_allocations(repo.path)
        assert not found, [p.message for p in found]
        return topology.plan(
            inventory,
            order(allocations),
            dt.date.fromisoformat(today),
            lab_dir=repo.path / "lab",
            root=repo.path,
            source_inventory=repo.path / "inventory/production",
            clients=clients,
        )

    return make


# ---- the lab: a copy of the repository with its own lab, through ansible-playbook over SSH ----

ANSIBLE_PLAYBOOK = str(Path(BANDWIDTH).with_name("ansible-playbook"))
COPIED = ("allocations", "inventory", "playbooks", "roles", "schemas", "scripts", "ansible.cfg")


class Lab:
    """A copy of the repository with its own lab, so tests may edit allocations freely."""

    def __init__(self, path: Path):
        self.path = path

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
        done = subprocess.run(argv, cwd=self.path, capture_output=True, text=True, timeout=600, env=env, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"{argv} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        return done

    def apply(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(ANSIBLE_PLAYBOOK, "-i", "lab/inventory", "playbooks/apply.yml", *extra, check=check)

    def verify(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(ANSIBLE_PLAYBOOK, "-i", "lab/inventory", "playbooks/verify.yml", *extra, check=check)

    def description(self) -> dict:
        return json.loads((self.path / "lab" / "lab.json").read_text())

    def state_dir(self, gateway: str) -> Path:
        return self.path / "lab" / "state" / gateway

    def tc(self, gateway: str, *args: str) -> str:
        return subprocess.run(["ip", "netns", "exec", f"bwlab-{gateway}", "tc", *args], capture_output=True, text=True, check=True).stdout

    def classes(self, gateway: str, device: str) -> dict[str, str]:
        """classid -> its line of `tc class show` without counters."""
        found = {}
        for line in self.tc(gateway, "class", "show", "dev", device).splitlines():
            parts = line.split()
            if len(parts) > 2 and parts[0] == "class":
                found[parts[2]] = line.strip()
        return found

    def sent_bytes(self, gateway: str, device: str) -> dict[str, int]:
        text = self.tc(gateway, "-s", "class", "show", "dev", device)
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"class htb (\S+) .*?\n Sent (\d+) bytes", text)}

    def filters(self, gateway: str, device: str) -> str:
        return self.tc(gateway, "filter", "show", "dev", device, "parent", "1:")

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.path / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new))


def recap_changed(output: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def minor(request_id: str) -> str:
    from bandwidth.shaping.tc import build

    return f"1:{build.minor_for(request_id):x}"


def ping(lab: Lab, request_id: str, count: int = 3) -> None:
    """A little real traffic from an agency's client through the gateway, so counters move."""
    description = json.loads((lab.path / "lab" / "lab.json").read_text())
    client = next(c for c in description["clients"] if c["id"] == request_id)
    subprocess.run(["ip", "netns", "exec", client["namespace"], "ping", "-q", "-c", str(count), "-i", "0.2", "-W", "1", client["server_address"]], capture_output=True, check=True)


def copy_repo(path: Path) -> Path:
    """The parts of the repository a lab run needs, with the real venv; tests may edit it freely."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, path / name, symlinks=True)
        else:
            shutil.copy(source, path / name)
    (path / ".venv").symlink_to(ROOT / ".venv")
    return path


@contextlib.contextmanager
def applied_lab(path: Path):
    """The lab of a repository copy, up and applied; taken down afterwards, also on failure."""
    instance = Lab(path)
    try:
        instance.run(BANDWIDTH, "lab", "up")
        instance.apply()
        yield instance
    finally:
        instance.run(BANDWIDTH, "lab", "down", check=False)


def write_big_gateway(path: Path, allocations: int, gateway: str = "gw-big") -> Path:
    """A repository copy whose inventory is one gateway with one 10 Gbit/s uplink and `allocations`
    allocations in /28s of 198.18.0.0/16: a batch long enough to act on while it runs."""
    copy_repo(path)
    shutil.rmtree(path / "allocations")
    shutil.rmtree(path / "inventory")
    host_vars = path / "inventory/production/host_vars"
    host_vars.mkdir(parents=True)
    (path / "inventory/production/hosts.yml").write_text(f"all:\n  children:\n    gateways:\n      hosts:\n        {gateway}: {{}}\n")
    (host_vars / f"{gateway}.yml").write_text(
        "bandwidth_lan_networks: [198.18.0.0/16]\nbandwidth_uplinks:\n  - {name: isp-a, download_mbps: 10000, upload_mbps: 10000, reserve_percent: 10, lan_interface: eth1}\n"
    )
    folder = path / "allocations" / gateway
    folder.mkdir(parents=True)
    for n in range(1, allocations + 1):
        third, fourth = divmod((n - 1) * 16, 256)
        (folder / f"BW-2026-{n:04d}.yaml").write_text(
            f"id: BW-2026-{n:04d}\nagency: Dinas Uji {n}\nletter: {{number: 555/{n}/UJI/2026, date: 2026-11-01}}\n"
            f"contact: {{name: Penguji, email: uji@example.go.id}}\ngateway: {gateway}\nuplink: isp-a\n"
            f"subnets: [198.18.{third}.{fourth}/28]\ndownload: {{guaranteed_mbps: 2, max_mbps: 10}}\n"
            f"upload: {{guaranteed_mbps: 1, max_mbps: 5}}\npriority: {n % 8}\nstart: 2026-11-01\npurpose: Uji beban\n"
        )
    return path


def clear_gateway(gateway: str, devices=("eth1",), ifbs=("ifb-eth1",)) -> None:
    """What a gateway looks like before its first apply: no qdisc of ours, no ifb."""
    namespace = f"bwlab-{gateway}"
    for device in devices:
        subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "del", "dev", device, "root"], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "del", "dev", device, "ingress"], capture_output=True, check=False)
    for ifb in ifbs:
        subprocess.run(["ip", "-n", namespace, "link", "del", "dev", ifb], capture_output=True, check=False)


def processes_in(namespace: str, word: str) -> list[int]:
    """Live processes in a network namespace whose command line contains `word`."""
    inode = os.stat(f"/run/netns/{namespace}").st_ino
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}/ns/net").st_ino != inode:
                continue
            if word in Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(name))
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every live process under `pid` (its children, theirs, ...), read from /proc.

    ansible-playbook's workers start sessions of their own (setsid), so killing the controller's
    process group leaves them running: a test that kills a controller kills these too, by pid."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := _stat_fields(int(name))):
            children.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    """The process exists and is not a zombie (one whose parent is gone waits for a PID 1 that does not reap it)."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] != "Z"


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command (state, parent, ...); [] if the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()  # the command may hold spaces and ")"
    except OSError:
        return []


# ---- daemons a test starts on loopback: Prometheus, the collector, receivers ----

PROMETHEUS = "/usr/bin/prometheus"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop one process this test started, and reap it: SIGTERM, then SIGKILL after `timeout`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


@contextlib.contextmanager
def running_prometheus(home: Path, config: str = "global: {}\n", data: Path | None = None, *flags: str):
    """A real Prometheus on 127.0.0.1 with `config` (and the store `data`, default home/data), ready; its base URL.
    Stopped and reaped afterwards, also on failure; its log is in the assertion when it does not start."""
    (home / "prometheus.yml").write_text(config, encoding="utf-8")
    port, log_path = free_port(), home / "prometheus.log"
    argv = [PROMETHEUS, f"--config.file={home / 'prometheus.yml'}", f"--storage.tsdb.path={data or home / 'data'}", f"--web.listen-address=127.0.0.1:{port}", *flags]
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"Prometheus not ready in 30 s: {log_path.read_text(errors='replace')[-2000:]}"
            time.sleep(0.05)
        yield base
    finally:
        stop_process(process)


# ---- a repository built commit by commit, with its dispositions recorded (test_audit, test_ledger) ----
# The history: a direct push creates BW-2026-0001; PR #11 (merge commit) creates BW-2026-0002;
# PR #12 (squash, trailers pasted from `record --print`) raises its download max; PR #13 moves it
# from gw-a to gw-b (a rename); PR #14 removes BW-2026-0001. `bandwidth record` asks a local server
# (pytest-httpserver) that answers like the GitHub API.

GH_REPO = "pemprov-kaltim/bandwidth"
CHAIN = """\
ordered: true
chain:
  - {role: kasubag_tu, title: Kasubag TU, members: [tu-1]}
  - {role: administrator_tik, title: Pejabat Administrator Bidang TIK, members: [admin-1]}
  - {role: kasi_infrastruktur, title: Kasi Infrastruktur TIK, members: [kasi-1]}
"""
ADMIN = ("Admin Jaringan", "admin@diskominfo.example.go.id")
SITI = ("Siti Rahma", "siti@dinkes.example.go.id")
MERGER = ("GitHub", "noreply@github.com")


@dataclass
class Step:
    commit: str
    date: str


class History:
    """Commits with fixed authors and dates; merges as GitHub makes them."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, who=ADMIN, date: str = "2026-11-02T09:00:00+08:00") -> str:
        env = {
            **os.environ, "GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1], "GIT_COMMITTER_NAME": who[0], "GIT_COMMITTER_EMAIL": who[1],
            "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
        }  # fmt: skip
        return subprocess.run(["git", *args], cwd=self.repo.path, capture_output=True, text=True, check=True, env=env).stdout.strip()

    def commit(self, message: str, who=ADMIN, date: str = "2026-11-02T09:00:00+08:00") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, who=who, date=date)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, message: str, date: str) -> str:
        self.git("merge", "-q", "--no-ff", branch, "-m", message, who=MERGER, date=date)
        return self.git("rev-parse", "HEAD")


def serve_pull(
    httpserver, number: int, merge_sha: str, head: str, base: str, author: str, day: str, approvers=("tu-1", "admin-1", "kasi-1"),
    branch: str = "feature", comments: list | None = None,
):  # fmt: skip
    """What GitHub answers about one merged pull request (opened at 00:30 of `day`), its reviews and its comments."""
    merged_at = f"{day}T06:00:00Z"
    httpserver.expect_request(f"/repos/{GH_REPO}/commits/{merge_sha}/pulls").respond_with_json([{"number": number, "merged_at": merged_at, "merge_commit_sha": merge_sha}])
    pull = {"number": number, "user": {"login": author}, "head": {"sha": head, "ref": branch}, "base": {"sha": base}, "created_at": f"{day}T00:30:00Z"}
    httpserver.expect_request(f"/repos/{GH_REPO}/pulls/{number}").respond_with_json({**pull, "merged_by": {"login": "kasi-1"}, "merged_at": merged_at})
    httpserver.expect_request(f"/repos/{GH_REPO}/issues/{number}/comments", query_string={"per_page": "100"}).respond_with_json(comments or [])
    httpserver.expect_request(f"/repos/{GH_REPO}/contents/.github/disposition.yml", query_string={"ref": base}).respond_with_json(
        {"content": base64.b64encode(CHAIN.encode()).decode(), "encoding": "base64"}
    )
    reviews = [{"id": number * 10 + i, "user": {"login": login}, "state": "APPROVED", "submitted_at": f"{day}T0{i + 1}:00:00Z", "commit_id": head} for i, login in enumerate(approvers)]
    httpserver.expect_request(f"/repos/{GH_REPO}/pulls/{number}/reviews", query_string={"per_page": "100"}).respond_with_json(reviews)
    httpserver.expect_request(f"/repos/{GH_REPO}/pulls/{number}/files", query_string={"per_page": "100"}).respond_with_json([])


def bandwidth(repo: Repo, httpserver, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GITHUB_TOKEN": "test-token"}
    if httpserver is not None:
        env["GITHUB_API_URL"] = httpserver.url_for("").rstrip("/")
    env.update({"GIT_COMMITTER_NAME": "github-actions[bot]", "GIT_COMMITTER_EMAIL": "bot@example.invalid"})
    return subprocess.run([BANDWIDTH, *args], cwd=repo.path, capture_output=True, text=True, env=env, timeout=60, check=False)


def record(repo: Repo, httpserver, commit: str, *extra: str) -> None:
    done = bandwidth(repo, httpserver, "record", "--github-repo", GH_REPO, "--commit", commit, *extra)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def built(repo: Repo, httpserver):
    """The repository after five steps, and the commit of each."""
    h = History(repo)
    repo.write(".github/disposition.yml", CHAIN)
    repo.request("BW-2026-0001", "gw-a", subnets="[198.18.1.0/24]")
    steps = {"create-0001": Step(h.commit("Inventory and the first allocation", date="2026-11-02T09:00:00+08:00"), "2026-11-02")}

    h.git("checkout", "-q", "-b", "pr-11")
    repo.request("BW-2026-0002", "gw-a", subnets="[198.18.2.0/24]", agency="Dinas Kesehatan")
    head = h.commit("Permohonan BW-2026-0002", who=SITI, date="2026-11-03T08:00:00+08:00")
    h.git("checkout", "-q", "main")
    base = h.git("rev-parse", "HEAD")
    merge = h.merge("pr-11", "Merge pull request #11 from dinkes/pr-11", "2026-11-03T14:00:00+08:00")
    serve_pull(httpserver, 11, merge, head, base, "siti-rahma", "2026-11-03")
    record(repo, httpserver, merge, "--applied-at", "2026-11-03T06:05:00Z")
    steps["create-0002"] = Step(merge, "2026-11-03")

    # Squash merge of PR #12: the trailers are pasted into the message; no note.
    base = h.git("rev-parse", "HEAD")
    serve_pull(httpserver, 12, "0" * 40, "1" * 40, base, "siti-rahma", "2026-11-10")
    trailers = bandwidth(repo, httpserver, "record", "--github-repo", GH_REPO, "--pr", "12", "--print")
    assert trailers.returncode == 0, trailers.stderr
    assert "Bandwidth-Disposition: kasi_infrastruktur kasi-1 2026-11-10T03:00:00Z" in trailers.stdout
    repo.request("BW-2026-0002", "gw-a", subnets="[198.18.2.0/24]", agency="Dinas Kesehatan", download="{guaranteed_mbps: 10, max_mbps: 30}")
    steps["raise-0002"] = Step(h.commit(f"Naikkan BW-2026-0002 (#12)\n\n{trailers.stdout}", who=SITI, date="2026-11-10T15:00:00+08:00"), "2026-11-10")

    h.git("checkout", "-q", "-b", "pr-13")
    (repo.path / "allocations/gw-b").mkdir(exist_ok=True)
    h.git("mv", "allocations/gw-a/BW-2026-0002.yaml", "allocations/gw-b/BW-2026-0002.yaml")
    repo.request("BW-2026-0002", "gw-b", subnets="[198.18.18.0/24]", agency="Dinas Kesehatan", download="{guaranteed_mbps: 10, max_mbps: 30}")
    head = h.commit("Pindahkan BW-2026-0002 ke gw-b", who=ADMIN, date="2026-11-20T08:00:00+08:00")
    h.git("checkout", "-q", "main")
    base = h.git("rev-parse", "HEAD")
    merge = h.merge("pr-13", "Merge pull request #13 from diskominfo/pindah-0002", "2026-11-20T10:00:00+08:00")
    serve_pull(httpserver, 13, merge, head, base, "admin-jaringan", "2026-11-20")
    record(repo, httpserver, merge)
    steps["move-0002"] = Step(merge, "2026-11-20")

    h.git("checkout", "-q", "-b", "pr-14")
    h.git("rm", "-q", "allocations/gw-a/BW-2026-0001.yaml")
    head = h.commit("Cabut BW-2026-0001", who=ADMIN, date="2026-11-25T08:00:00+08:00")
    h.git("checkout", "-q", "main")
    base = h.git("rev-parse", "HEAD")
    merge = h.merge("pr-14", "Merge pull request #14 from diskominfo/cabut-0001", "2026-11-25T09:00:00+08:00")
    serve_pull(httpserver, 14, merge, head, base, "admin-jaringan", "2026-11-25", approvers=("tu-1", "admin-1"))  # kasi-1 did not approve
    record(repo, httpserver, merge)
    steps["remove-0001"] = Step(merge, "2026-11-25")
    return repo, steps


# ---- a completion report (schemas/report.schema.json) to render (test_reports, test_report_command, test_requirements) ----

HOSTILE_AGENCY = "<script>alert(1)</script> **x** @octocat [a](http://evil)"


def rates(guaranteed: float, maximum: float, measured: float | None = None, contention: float | None = None) -> dict:
    return {"guaranteed_mbps": guaranteed, "max_mbps": maximum, "measured_mbps": measured, "contention_mbps": contention}


def allocation(ident: str, gateway: str, uplink: str, agency: str, *, changed: bool, github: str | None, verdict: str = "pass", **extra) -> dict:
    doc = {
        "id": ident,
        "gateway": gateway,
        "uplink": uplink,
        "agency": agency,
        "letter": {"number": f"440/{ident[-4:]}/DISKOMINFO-XI/2026", "date": "2026-11-02"},
        "contact": {"name": "Budi Santoso", "email": "budi.santoso@example.go.id", "github": github},
        "subnets": ["198.18.10.0/24"],
        "priority": 2,
        "start": "2026-11-09",
        "end": None,
        "purpose": "Layanan SIMRS dan telemedicine",
        "changed": changed,
        "download": rates(50, 100, 95.2, 51.0),
        "upload": rates(20, 40, 38.125),
        "verdict": verdict,
        "timeline": {
            "committed": "2026-11-27T01:00:00Z",
            "approved": None,
            "merged": "2026-11-28T00:55:00Z",
            "applied": "2026-11-28T01:02:30Z",
            "verified": "2026-11-28T01:04:10Z",
        },
    }
    doc.update(extra)
    return doc


def sample() -> dict:
    return {
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "started": "2026-11-28T01:02:03Z",
        "finished": "2026-11-28T01:05:00Z",
        "mode": "lab",
        "tolerance": {"max_low": 0.85, "max_high": 1.05, "guaranteed_min": 0.90},
        "gateways": [
            {
                "name": "gw-samarinda",
                "applied": True,
                "reason": None,
                "changed": True,
                "commands": ["tc class change dev eth1 parent 1:1 classid 1:10 htb rate 50mbit ceil 100mbit prio 2"],
                "uplinks": [
                    {"name": "isp-a", "download_mbps": 1000, "upload_mbps": 500, "reserve_percent": 10, "allocated": {"download_mbps": 210, "upload_mbps": 85}},
                    {"name": "isp-b", "download_mbps": 500, "upload_mbps": 500, "reserve_percent": 10, "allocated": {"download_mbps": 40, "upload_mbps": 15}},
                ],
            },
            {
                "name": "gw-balikpapan",
                "applied": True,
                "reason": None,
                "changed": False,
                "commands": [],
                "uplinks": [{"name": "isp-a", "download_mbps": 300, "upload_mbps": 100, "reserve_percent": 20, "allocated": {"download_mbps": 125, "upload_mbps": 50}}],
            },
        ],
        "drift": [],
        "allocations": [
            allocation("BW-2026-0001", "gw-samarinda", "isp-a", "Dinas Kesehatan Provinsi Kalimantan Timur", changed=True, github="budi-santoso"),
            allocation(
                "BW-2026-0002",
                "gw-samarinda",
                "isp-b",
                "Badan Pendapatan Daerah Provinsi Kalimantan Timur",
                changed=False,
                github="siti-aminah",
                download=rates(40, 80, 78.4),
                upload=rates(15, 30, 29.1),
            ),
            allocation(
                "BW-2026-0003",
                "gw-balikpapan",
                "isp-a",
                "RSUD Dr. Kanujoso Djatiwibowo",
                changed=True,
                github=None,
                verdict="fail",
                download=rates(100, 200, 120.5, 70.25),
                upload=rates(40, 60, 57, 39.5),
            ),
            allocation(
                "BW-2026-0004",
                "gw-balikpapan",
                "isp-a",
                "Dinas Pendidikan dan Kebudayaan Provinsi Kalimantan Timur",
                changed=False,
                github="rudi-h",
                verdict="not_measured",
                download=rates(25, 50),
                upload=rates(10, 20),
            ),
        ],
    }


FULL_TIMELINE = {
    "requested": "2026-11-27T00:58:00Z",
    "committed": "2026-11-27T01:00:00Z",
    "opened": "2026-11-27T01:00:00Z",
    "dispositions": [
        {"role": "kasubag_tu", "login": "sri-wahyuni-tu", "time": "2026-11-27T02:10:00Z"},
        {"role": "administrator_tik", "login": "rudi-hartono-tik", "time": "2026-11-27T03:00:00Z"},
        {"role": "kasi_infrastruktur", "login": "dewi-lestari-infra", "time": "2026-11-27T04:30:00Z"},
    ],
    "approved": "2026-11-27T04:30:00Z",
    "head_committed": "2026-11-27T00:59:30Z",
    "checked": "2026-11-27T01:03:00Z",
    "availability_reported": "2026-11-27T01:03:20Z",
    "merged": "2026-11-28T00:55:00Z",
    "applied": "2026-11-28T01:02:30Z",
    "verified": "2026-11-28T01:04:10Z",
    "pull_request": 42,
    "copied": "2026-11-28T01:07:00Z",
}
