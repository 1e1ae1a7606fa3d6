"""Where a result came from: config hashes, library versions, the git commit."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path


def config_hash(config: dict) -> str:
    """A short, stable hash of a JSON-able config (key order does not matter)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of ``packages`` (``"missing"`` where one is not installed)."""
    found = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def git_commit(folder: str | Path = ".") -> str:
    """The checked-out commit (with ``-dirty`` when files differ), or ``"unknown"``."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _is_snakemake(argv: Sequence[str]) -> bool:
    heads = [Path(a).name for a in argv[:2]]
    return "snakemake" in heads or list(argv[1:3]) == ["-m", "snakemake"]


def snakemake_command(pid: int | None = None, proc: str | Path = "/proc") -> str | None:
    """The command line of the Snakemake process this job runs under, or None if unknown.

    Snakemake does not hand its ``sys.argv`` to jobs, so this walks up the process tree in
    ``/proc`` (Linux) to the nearest ancestor that is ``snakemake`` or ``python -m snakemake``.
    Local rules always run under the main process, so this finds the command the user typed;
    None where there is no ``/proc`` (macOS) or no such ancestor (a container).
    """
    proc = Path(proc)
    pid = os.getpid() if pid is None else pid
    for _ in range(100):
        try:
            raw = (proc / str(pid) / "cmdline").read_bytes()
            stat = (proc / str(pid) / "stat").read_text()
        except OSError:
            return None
        argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
        if _is_snakemake(argv):
            return shlex.join(argv)
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces and ")"
        if parent <= 1:
            return None
        pid = parent
    return None
