"""Run a command as a child subreaper: whatever it leaves behind is stopped and reaped here.

act starts job steps, and they start git, make, pip, python: a process that outlives its parent
would be handed to PID 1, which on this machine does not reap. Under this wrapper such processes
are handed to it instead; when the command ends (or the wrapper is told to stop: SIGTERM, SIGINT,
forwarded to the command), every process left is stopped by its pid and reaped. The exit status
is the command's.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def children() -> list[int]:
    found = []
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                found.append(int(entry))
    return found


def main() -> int:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("reaper: cannot become a child subreaper", file=sys.stderr)
        return 125
    command = subprocess.Popen(sys.argv[1:])
    signal.signal(signal.SIGTERM, lambda *_: command.send_signal(signal.SIGTERM))
    signal.signal(signal.SIGINT, lambda *_: command.send_signal(signal.SIGTERM))
    code = command.wait()
    started, sig = time.monotonic(), signal.SIGTERM
    while True:
        while True:  # reap what has ended
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
        left = children()
        if not left:
            return code
        if time.monotonic() - started > 5:
            sig = signal.SIGKILL
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
