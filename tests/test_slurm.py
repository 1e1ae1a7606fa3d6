"""The tiny workflow through `--profile profiles/slurm` on a real SLURM (.ci/slurm.sh).

The test starts the single-node cluster of .ci/slurm.sh (unless one is already up), runs the
tiny config with the slurm executor, checks with sacct that every non-local job ran as a SLURM
job and completed, compares the outputs with a local run of the same config, and stops the
daemons it started. It skips, with the reason, where SLURM is not installed or cannot start.
"""

import re
import shutil
import subprocess
import time
from collections import Counter

import pytest
from conftest import (
    REPO,
    compare_outputs,
    jobs_planned,
    make_workdir,
    run_tiny,
    write_fake_dataset,
)

pytestmark = [pytest.mark.slurm, pytest.mark.e2e]
SLURM_SH = REPO / ".ci" / "slurm.sh"
PROFILES = ["--profile", str(REPO / "profiles/slurm"), "--profile", str(REPO / "profiles/slurm-ci")]


def _sh(*args, timeout=300):
    return subprocess.run(
        [str(SLURM_SH), *args], capture_output=True, text=True, timeout=timeout
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster():
    if shutil.which("slurmctld") is None or shutil.which("sbatch") is None:
        pytest.skip("SLURM is not installed: apt-get install slurm-wlm munge mariadb-server")
    already_up = _sh("status").returncode == 0
    if not already_up:
        started = _sh("start")
        if started.returncode != 0:
            pytest.skip(f"SLURM could not be started: {started.stderr.strip()[-500:]}")
    yield
    if not already_up:
        _sh("stop")


def local_rules() -> set[str]:
    block = re.search(r"^localrules:\n((?:\s+\w+,\n)+)", (REPO / "Snakefile").read_text(), re.M)
    return set(re.findall(r"\w+", block[1]))


def test_tiny_workflow_on_slurm_matches_a_local_run(cluster, tmp_path):
    data = write_fake_dataset(tmp_path / "data")
    local = make_workdir(tmp_path / "local", data)
    remote = make_workdir(tmp_path / "slurm", data)
    run_tiny(local)
    expected = jobs_planned(run_tiny(remote, "-n"))
    expected.pop("total")

    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 1))
    proc = run_tiny(remote, *PROFILES, "--executor", "slurm", timeout=1200)
    assert "SLURM run ID" in proc.stdout + proc.stderr

    sacct = subprocess.run(
        ["sacct", "-X", "-P", "-n", "-S", since, "-o", "JobID,Comment,State,ExitCode"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    ran = Counter()
    for line in sacct.splitlines():
        job_id, comment, state, exit_code = line.split("|")
        rule = re.match(r"rule_(\w+?)_wildcards|rule_(\w+)$", comment)
        assert rule, f"SLURM job {job_id} has no rule comment: {line}"
        assert (state, exit_code) == ("COMPLETED", "0:0"), line
        ran[rule[1] or rule[2]] += 1
    remote_rules = {rule: n for rule, n in expected.items() if rule not in local_rules()}
    assert dict(ran) == remote_rules

    compare_outputs(local / "results", remote / "results")
