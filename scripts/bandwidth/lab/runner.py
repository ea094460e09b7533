"""The commands the lab runs: one at a time or many at once, never through a shell.

A failure raises LabError naming the command and its standard error, for `ip -batch` also the
line of the batch that failed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

from bandwidth.lab.errors import LabError

IP = "ip"


def one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def _failure(argv: list[str], code: int, stderr: str, stdin: str | None) -> LabError:
    where = ""
    match = re.search(r"Command failed \S+:(\d+)", stderr)
    if match and stdin is not None:  # ip -batch: name the line that failed
        lines = stdin.splitlines()
        number = int(match.group(1))
        if 0 < number <= len(lines):
            where = f" at line {number} ({lines[number - 1]!r})"
    message = one_line(re.sub(r"Command failed \S+:\d+", "", stderr)) or f"exit status {code}"
    return LabError(f"`{shlex.join(argv)}` failed{where}: {message}")


def run_command(argv: list[str], stdin: str | None = None, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run one command (never through a shell); a failure raises LabError naming the command and its stderr."""
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise LabError(f"{argv[0]}: command not found (make setup installs iproute2, openssh-server and iperf3)") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"`{shlex.join(argv)}` did not finish within {timeout:g} s") from None
    if check and done.returncode != 0:
        raise _failure(argv, done.returncode, done.stderr, stdin)
    return done


def run_all(jobs: list[tuple[list[str], str | None]], timeout: float = 30) -> None:
    """Run independent commands at the same time; raise LabError for the first that failed.

    Standard output and error go to temporary files, not pipes: a daemon that keeps an inherited
    pipe open would make waiting for the pipe hang."""
    started: list = []
    with tempfile.TemporaryDirectory(prefix="bwlab-") as folder:
        try:
            _start_all(jobs, started, Path(folder))
            _wait_all(started, timeout)
        finally:
            for _argv, _stdin, process, _out in started:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def _start_all(jobs: list, started: list, folder: Path) -> None:
    for number, (argv, stdin) in enumerate(jobs):
        out = folder / f"{number}.out"
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            process = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, stdout=fd, stderr=fd)
        except FileNotFoundError:
            raise LabError(f"{argv[0]}: command not found (make setup installs iproute2, openssh-server and iperf3)") from None
        finally:
            os.close(fd)
        started.append((argv, stdin, process, out))
        if stdin is not None:
            process.stdin.write(stdin.encode())
            process.stdin.close()


def _wait_all(started: list, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    failure = None
    for argv, stdin, process, out in started:
        try:
            code = process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            failure = failure or LabError(f"`{shlex.join(argv)}` did not finish within {timeout:g} s")
            continue
        if code != 0 and failure is None:
            failure = _failure(argv, code, out.read_text(errors="replace"), stdin)
    if failure:
        raise failure
