"""Run the workflow's script jobs in forks of one process that has already imported everything.

A LayerScope job spends 1.5 to 2 s importing numpy, pyarrow, scikit-learn, numba, matplotlib or
torch before it does anything, which is most of a job on small data: the 210 jobs of the
``digits`` demo spent three quarters of their time importing. So the first job of a local run
starts a server that imports those libraries once; every later job hands itself to the server
over a Unix socket, and the server forks a child that runs the job's script with the job's
working folder, environment and standard streams (the file descriptors travel over the
socket). The job process waits and exits with the child's status, so Snakemake sees an ordinary
job. Each job still runs in a fresh process (a fork): no state passes from one job to the next.

Safety:
- Linux only, and only under a local Snakemake run: cluster jobs (``--mode remote``, SLURM)
  run as usual. ``LAYERSCOPE_JOBSERVER=0`` turns it off.
- The server only imports; it never computes, so no thread pool (OpenMP, BLAS, numba, torch)
  has started when it forks, and CUDA is never initialised in it.
- It belongs to one Snakemake run: it exits when that Snakemake process has gone and it has
  no job left, or after ``IDLE_SECONDS`` without work. If a job process dies (Ctrl-C, kill),
  the server kills the fork that ran its job.
- Anything unexpected (no server, a server starting, a broken connection before the fork)
  makes the job run in its own process, as it would without a server.

A Snakemake ``benchmark:`` of a served job measures the waiting job process: its wall time is
the job's, its CPU time and memory are not (the fit's own seconds are in each output's metadata).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import runpy
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path

ENV_SWITCH = "LAYERSCOPE_JOBSERVER"
IDLE_SECONDS = 600
# How long a job waits for a starting server before it runs by itself.
START_WAIT_SECONDS = 180
# Imported once by the server before it serves (2 to 4 s; on a new installation umap's import
# compiles pynndescent for about 15 s, once, where every early job would otherwise compile it).
PRELOAD = (
    "numpy",
    "yaml",
    "pyarrow.parquet",
    "pandas",
    "tqdm",
    "torch",
    "torch._inductor.config",  # what torch.use_deterministic_algorithms imports: 0.95 s
    "snakemake.script",
    "layerscope.tables",
    "layerscope.train",
    "layerscope.capture",
    "layerscope.jobs",
    "scipy.linalg",
    "jsonschema",
    "threadpoolctl",
    "PIL.Image",
    "sklearn.decomposition",
    "sklearn.neighbors",
    "sklearn.linear_model",
    "sklearn.model_selection",
    "sklearn.preprocessing",
    "sklearn.pipeline",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "layerscope.plots",
    "layerscope.report",
    "numba",
    "openTSNE",
    "layerscope.metrics",
    "layerscope.projections",
    "umap",
)
_HEADER = struct.Struct("!I")
_served = False  # True inside a fork of the server: the job runs right here


# -- the job's side ----------------------------------------------------------------------------


def delegate() -> None:
    """Have the job server run this script job, then exit with its status.

    Call first thing in a workflow script. Returns (and the script runs in this process) when
    no server serves this run, when one is only starting (one is started if none is), or
    inside the server's fork that runs the job.
    """
    if _served:
        return
    owner = run_owner()
    if owner is None:
        return
    sock = _connect_waiting(_address(owner), owner)
    if sock is None:
        return
    with sock:
        status = _hand_over(sock)
    if status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def run_owner() -> int | None:
    """The pid of the local Snakemake run this job belongs to, or None where no server may
    serve it."""
    if sys.platform != "linux" or os.environ.get(ENV_SWITCH, "1") == "0":
        return None
    if "SLURM_JOB_ID" in os.environ:
        return None
    owner = _snakemake_ancestor(os.getpid())
    if owner is None:
        return None
    pid, argv = owner
    if "--mode" in argv:  # a cluster job's or a subprocess' own Snakemake, not the main one
        return None
    return pid


def _address(owner: int) -> str:
    # One server per run and per installation (interpreter and library folder).
    where = f"{sys.executable}|{Path(__file__).resolve().parent}".encode()
    return f"\0layerscope-jobserver-{os.getuid()}-{owner}-{hashlib.sha1(where).hexdigest()[:12]}"


def start_for_run() -> bool:
    """Start the server of this (main, local) Snakemake process, so it is ready early;
    whether one will serve the run."""
    if sys.platform != "linux" or os.environ.get(ENV_SWITCH, "1") == "0":
        return False
    _start_server(_address(os.getpid()), os.getpid())
    return True


def _connect_waiting(address: str, owner: int) -> socket.socket | None:
    """A connection to the run's server, waiting while one is starting (its imports take 2 to
    4 s, which the job would spend importing too; on a new installation numba compiles, and
    one process doing that beats every early job doing it). None: run the job here."""
    deadline = time.monotonic() + START_WAIT_SECONDS
    started = None
    while time.monotonic() < deadline:
        try:
            return _connect(address)
        except OSError:
            pass
        if not _starting(address):
            if started is None:
                _start_server(address, owner)
                started = time.monotonic()
            elif time.monotonic() - started > 10:
                return None  # the server did not come up: run here
        time.sleep(0.05)
    return None


def _snakemake_ancestor(pid: int) -> tuple[int, list[str]] | None:
    for _ in range(50):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        args = [a.decode(errors="replace") for a in argv if a]
        names = [Path(a).name for a in args[:2]]
        if "snakemake" in names or args[1:3] == ["-m", "snakemake"]:
            return pid, args
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        if pid <= 1:
            return None
    return None


def _connect(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


def _starting(address: str) -> bool:
    """Whether a server holds the run's ``.lock`` name (it is starting, or serves)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)  # a full backlog must not make this job wait
    try:
        probe.connect(address + ".lock")
        return True
    except BlockingIOError:
        return True  # held, and busy
    except OSError:
        return False  # nobody holds the name
    finally:
        probe.close()


def _start_server(address: str, owner: int) -> None:
    """Start a server unless one is already starting (it holds the ``.lock`` name)."""
    if _starting(address):
        return
    spawn_module(["layerscope.jobserver", address.lstrip("\0"), str(owner)], "jobserver")


def spawn_module(args: list[str], name: str, niceness: int = 0) -> None:
    """Run ``python -m <args>`` in the background, detached from the job (own session, no
    inherited descriptors), with this library importable and its output appended to
    ``.snakemake/layerscope-<name>.log``."""
    scripts = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([scripts, os.environ.get("PYTHONPATH", "")])}
    log = Path(".snakemake") / f"layerscope-{name}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("a") as stream:
        subprocess.Popen(
            [sys.executable, "-m", *args],
            stdin=subprocess.DEVNULL, stdout=stream, stderr=stream,
            start_new_session=True, env=env, close_fds=True,
            preexec_fn=(lambda: os.nice(niceness)) if niceness else None,
        )  # fmt: skip


def _hand_over(sock: socket.socket) -> int | None:
    """Send this job to the server; its exit status, or None to run it here after all."""
    request = json.dumps(
        {
            "script": os.path.abspath(sys.argv[0]),
            "argv": sys.argv,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "path": sys.path,
        }  # fmt: skip
    ).encode()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        socket.send_fds(sock, [_HEADER.pack(len(request)) + request], [0, 1, 2])
        started = _read_line(sock)
    except OSError:
        return None
    if not started.startswith("started"):
        return None  # the server did not fork: nothing ran, so run here
    try:
        done = _read_line(sock)
        return int(done.split()[1])
    except (OSError, ValueError, IndexError):
        print("LayerScope internal error: the job server stopped during this job", file=sys.stderr)
        return 1


def _read_line(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(64)
        if not chunk:
            raise ConnectionError("job server closed the connection")
        data += chunk
    return data.decode().strip()


# -- the server's side -------------------------------------------------------------------------


def serve(address: str, owner: int) -> None:
    """Preload, then fork one child per job until the run that owns this server has ended."""
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind("\0" + address + ".lock")
    except OSError:
        return  # another server serves (or is starting for) this run
    lock.listen(64)
    t0 = time.monotonic()
    for name in PRELOAD:
        with contextlib.suppress(Exception):  # a missing optional library only costs speed
            importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + address)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(lock, selectors.EVENT_READ)  # drain the probes of starting jobs
    helper = _fork_warmup([listener, lock, selector])
    # A child's exit wakes the loop at once (through a pipe), so its job ends without delay.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector.register(wake_r, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    started: dict[int, tuple[str, float]] = {}
    print(f"serving the Snakemake run of pid {owner} (imports took {time.monotonic() - t0:.1f} s)")
    sys.stdout.flush()
    last_work = time.monotonic()
    while True:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj == wake_r:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 512)
            elif key.fileobj is lock:
                lock.accept()[0].close()
            elif key.fileobj is listener:
                conn, _ = listener.accept()
                # The fork keeps none of the server's sockets but the job's own streams.
                inherited = [listener, lock, selector, *children.values()]
                inherited += [_Fd(wake_r), _Fd(wake_w)]
                pid, script = _fork_job(conn, inherited)
                if pid is not None:
                    children[pid] = conn
                    started[pid] = (script, time.monotonic())
                    selector.register(conn, selectors.EVENT_READ, pid)
            else:  # the job process went away while its fork runs: stop the fork
                with contextlib.suppress(ProcessLookupError):
                    os.kill(key.data, signal.SIGKILL)
        for pid, status in _reaped():
            if pid == helper:
                print(f"numba warm-up {pid}: exit {status}")
                sys.stdout.flush()
            conn = children.pop(pid, None)
            if conn is not None:
                script, began = started.pop(pid)
                print(f"job {pid} {script}: exit {status} after {time.monotonic() - began:.2f} s")
                sys.stdout.flush()
                selector.unregister(conn)
                with contextlib.suppress(OSError):
                    conn.sendall(f"exit {status}\n".encode())
                conn.close()
            last_work = time.monotonic()
        if children:
            continue
        if not _alive(owner) or time.monotonic() - last_work > IDLE_SECONDS:
            return


class _Fd:
    """A bare file descriptor that a fork closes like a socket."""

    def __init__(self, fd: int):
        self.fd = fd

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _fork_warmup(inherited: list) -> int | None:
    """Fill numba's cache (layerscope.warmup) in a fork at the lowest priority, when this
    installation's is empty: the compiled code then loads in every later job."""
    from layerscope import warmup

    if not warmup.needed():
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for thing in inherited:
            thing.close()
        status = 0
        try:
            os.nice(19)
            warmup.main()
        except BaseException:
            traceback.print_exc()
            status = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return pid


def _fork_job(conn: socket.socket, inherited: list) -> tuple[int | None, str]:
    try:
        head, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
        (size,) = _HEADER.unpack(head)
        request = json.loads(_recv_exactly(conn, size))
    except (OSError, ValueError, struct.error):
        conn.close()
        return None, ""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)  # before its pipe closes: the fork's signals are its own
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for thing in (*inherited, conn):
            thing.close()
        os._exit(_run_job(request, fds))
    for fd in fds:
        os.close(fd)
    with contextlib.suppress(OSError):  # the job process has gone: the selector sees it next
        conn.sendall(b"started\n")
    return pid, Path(request["script"]).name


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("short request")
        data += chunk
    return data


def _run_job(request: dict, fds: list[int]) -> int:
    """In the fork: become the job (streams, folder, environment, arguments) and run it."""
    global _served
    _served = True
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    sys.path[:] = request["path"]
    try:
        runpy.run_path(request["script"], run_name="__main__")
        status = 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        if not isinstance(exit.code, int | None):
            print(exit.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return status


def _reaped():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status) % 256


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if __name__ == "__main__":
    # Serve from the importable module, not from __main__: the jobs' scripts import
    # layerscope.jobserver, and must see the same `_served` flag that the forks set.
    from layerscope import jobserver

    jobserver.serve(sys.argv[1], int(sys.argv[2]))
