"""The job server (layerscope.jobserver): jobs run in forks of a preloaded process, exactly as
they would in their own, and nothing of it outlives the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import REPO, compare_outputs, make_workdir, run_tiny

from layerscope import jobserver

SCRIPTS = REPO / "workflow" / "scripts"


def wait_for(predicate, seconds=30.0, every=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited: only its parent has not reaped it yet.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def servers_of(owner: int) -> list[int]:
    """Pids of job servers that serve the run of ``owner``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"layerscope.jobserver" in argv and str(owner).encode() in argv:
            found.append(int(proc.name))
    return found


@pytest.fixture
def server(tmp_path):
    """A job server for a pretend run owned by this test process, stopped afterwards."""
    address = f"layerscope-jobserver-test-{os.getpid()}-{tmp_path.name}"
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "layerscope.jobserver", address, str(os.getpid())],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert wait_for(lambda: _connectable("\0" + address), 120), "the job server did not start"
    yield "\0" + address, proc
    proc.kill()
    proc.wait()


def _connectable(address: str) -> bool:
    try:
        jobserver._connect(address).close()
    except OSError:
        return False
    return True


def client(address: str, script: Path, cwd: Path, **env: str) -> subprocess.Popen:
    """A process that hands ``script`` to the server, as a job's process does."""
    code = textwrap.dedent(
        f"""
        import sys
        from layerscope import jobserver
        sys.argv = [{str(script)!r}, "first", "second"]
        with jobserver._connect({address!r}) as sock:
            status = jobserver._hand_over(sock)
        print("client got", status, flush=True)
        sys.exit(99 if status is None else status)
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(SCRIPTS), **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_served_job_gets_the_jobs_folder_arguments_environment_streams_and_status(
    server, tmp_path
):
    address, _ = server
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys
            print("out", os.getcwd(), sys.argv[1:], os.environ["JOB_VALUE"], os.getpid())
            print("err line", file=sys.stderr)
            sys.exit(3)
            """
        )
    )
    work = tmp_path / "work"
    work.mkdir()
    proc = client(address, script, work, JOB_VALUE="forty-two")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    printed = out.splitlines()[0].split()
    assert printed[:5] == ["out", str(work), "['first',", "'second']", "forty-two"]
    assert int(printed[5]) != proc.pid  # it ran in the server's fork, not in the client
    assert "err line" in err
    assert out.splitlines()[-1] == "client got 3"


def test_a_failing_served_job_prints_its_traceback_and_exits_1(server, tmp_path):
    address, _ = server
    script = tmp_path / "job.py"
    script.write_text("raise ValueError('bad value in the job')\n")
    proc = client(address, script, tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "ValueError: bad value in the job" in err


def test_killing_the_job_process_kills_its_fork(server, tmp_path):
    address, _ = server
    script = tmp_path / "job.py"
    pidfile = tmp_path / "fork.pid"
    script.write_text(
        f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)\n"
    )
    proc = client(address, script, tmp_path)
    assert wait_for(lambda: pidfile.exists() and pidfile.read_text() != "", 60)
    fork = int(pidfile.read_text())
    assert alive(fork)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert wait_for(lambda: not alive(fork), 10), "the fork outlived its job process"


def test_the_server_exits_when_its_run_has_ended(tmp_path):
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    address = f"layerscope-jobserver-test-{owner.pid}"
    server = subprocess.Popen(
        [sys.executable, "-m", "layerscope.jobserver", address, str(owner.pid)],
        env={**os.environ, "PYTHONPATH": str(SCRIPTS)}, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert wait_for(lambda: _connectable("\0" + address), 120)
        owner.kill()
        owner.wait()
        assert server.wait(timeout=10) == 0
    finally:
        owner.kill()
        server.kill()


@pytest.mark.parametrize(
    "env, reason",
    [
        ({"LAYERSCOPE_JOBSERVER": "0"}, "switched off"),
        ({"SLURM_JOB_ID": "17"}, "a SLURM job"),
    ],
)
def test_no_server_is_used_where_it_may_not_serve(monkeypatch, env, reason):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert jobserver.run_owner() is None, reason


def test_no_server_is_used_outside_a_snakemake_run(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("LAYERSCOPE_JOBSERVER", raising=False)
    assert jobserver.run_owner() is None  # pytest is no Snakemake
    jobserver.delegate()  # returns: the caller runs its script itself


@pytest.mark.e2e
def test_served_and_unserved_runs_write_the_same_outputs_and_leave_no_server(
    tiny_results, tmp_path
):
    served = tiny_results  # the shared tiny run, made with the server (the default)
    assert "LAYERSCOPE_JOBSERVER" not in os.environ
    log = (served / ".snakemake" / "layerscope-jobserver.log").read_text()
    served_jobs = [line for line in log.splitlines() if line.startswith("job ")]
    # Every script job but the few that started before the server was ready.
    scripts = len(list((served / "results" / "logs").rglob("*.log")))
    assert len(served_jobs) >= scripts // 2, log
    assert all(": exit 0 after " in line for line in served_jobs), log
    # The run's Snakemake has exited, so its server must be gone too.
    owner = int(log.split("serving the Snakemake run of pid ", 1)[1].split()[0])
    assert wait_for(lambda: not any(alive(p) for p in servers_of(owner)), 10), servers_of(owner)

    plain = make_workdir(tmp_path / "plain", Path(yaml_data_root(served)))
    env = {**os.environ, "LAYERSCOPE_JOBSERVER": "0"}
    run_tiny(plain, env=env)
    assert not (plain / ".snakemake" / "layerscope-jobserver.log").exists()
    compare_outputs(plain / "results", served / "results")


def yaml_data_root(work: Path) -> str:
    return (work / "tiny.yaml").read_text().rsplit("data_root: ", 1)[1].strip()
