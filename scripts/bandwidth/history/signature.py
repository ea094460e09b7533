"""The signature of a disposition record: the note `bandwidth record` writes is signed by the workflow, so that
the audit trail cannot be written by whoever can push.

A note is the Bandwidth-* trailers, a blank line, and an SSH signature (`ssh-keygen -Y sign`, namespace
NAMESPACE) over SIGNED_PREFIX, the commit the note is on, and the trailers: a note copied onto another commit,
or with one trailer changed, no longer verifies. The key is a secret of the workflow's environment
`disposition-record` (main only); its public half is in .github/allowed-signers on main, under the principal
PRINCIPAL. A note verifies only against the allowed signers of the commit audited; trailers in a commit message
(a squash message is the requester's text) are never signed, so never verified.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

NAMESPACE = "bandwidth-disposition@pemprov-kaltim"
PRINCIPAL = "bandwidth-record"
ALLOWED_SIGNERS = ".github/allowed-signers"
SIGNED_PREFIX = "bandwidth-disposition v1"
_ARMOR = re.compile(r"\n*(-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]+-----END SSH SIGNATURE-----)\n*\Z")


class SignatureError(Exception):
    pass


def signed_data(commit: str, trailers: str) -> bytes:
    return f"{SIGNED_PREFIX}\ncommit {commit}\n{trailers}".encode()


def split(note: str) -> tuple[str, str | None]:
    """(the trailers, the armored signature or None) of a note."""
    match = _ARMOR.search(note)
    if not match:
        return note, None
    return note[: match.start()].rstrip("\n") + "\n", match.group(1) + "\n"


def sign(key: Path, commit: str, trailers: str) -> str:
    """The note: the trailers and their signature by `key` (an SSH private key file)."""
    done = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", NAMESPACE], input=signed_data(commit, trailers), capture_output=True, check=False, timeout=30)
    armor = done.stdout.decode(errors="replace")
    if done.returncode != 0 or not _ARMOR.search("\n" + armor):
        raise SignatureError(f"ssh-keygen -Y sign -f {key}: {done.stderr.decode(errors='replace').strip() or 'no signature'}")
    return trailers + "\n" + armor


class Verifier:
    """Checks notes against one allowed-signers text; remembers each answer (a walk meets a note once per file)."""

    def __init__(self, allowed_signers: str | None):
        lines = [line for line in (allowed_signers or "").splitlines() if line.strip() and not line.lstrip().startswith("#")]
        self.allowed = "\n".join(lines) + "\n" if lines else None  # comments only: no signer, nothing verifies
        self._seen: dict[tuple[str, str], bool] = {}

    def verified(self, commit: str, note: str) -> bool:
        trailers, armor = split(note)
        if armor is None or self.allowed is None:
            return False
        key = (commit, note)
        if key not in self._seen:
            self._seen[key] = _verify(self.allowed, signed_data(commit, trailers), armor)
        return self._seen[key]


def _verify(allowed: str, data: bytes, armor: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="bandwidth-verify-") as folder:
        signers, signature = os.path.join(folder, "allowed_signers"), os.path.join(folder, "note.sig")
        Path(signers).write_text(allowed, encoding="utf-8")
        Path(signature).write_text(armor, encoding="utf-8")
        argv = ["ssh-keygen", "-Y", "verify", "-f", signers, "-I", PRINCIPAL, "-n", NAMESPACE, "-s", signature]
        done = subprocess.run(argv, input=data, capture_output=True, check=False, timeout=30)
    return done.returncode == 0
