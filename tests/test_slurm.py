"""The tiny workflow through `--profile profiles/slurm` on a real SLURM (.ci/slurm.sh).

The test starts the single-node cluster of .ci/slurm.sh (unless one is already up), runs the
tiny config with the slurm executor, checks with sacct and SLURM's job logs that every non-local
job ran inside a SLURM job (alone, or in a group of short jobs) and completed, compares the outputs with a local run of the same config, and stops the
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
    # A job's comment is rule_<rule>[_wildcards_<values>], a group job's rule_<group>_<rules>.
    slurm_jobs = {}
    for line in sacct.splitlines():
        job_id, comment, state, exit_code = line.split("|")
        assert comment.startswith("rule_"), f"SLURM job {job_id} has no rule comment: {line}"
        assert (state, exit_code) == ("COMPLETED", "0:0"), line
        slurm_jobs[job_id] = comment

    # What ran inside each SLURM job, from its log (the test profile keeps them all): one
    # job, or the several jobs of a group (profiles/slurm groups projections, scores and
    # figures). Logs: rule_<rule>/<wildcards>/<id>.log or group_<group>_<rules>/<id>.log.
    ran, groups = Counter(), Counter()
    root = remote / ".snakemake" / "slurm_logs"
    logs = sorted(root.rglob("*.log"))
    assert sorted(p.stem for p in logs) == sorted(slurm_jobs), "one log per SLURM job"
    for log in logs:
        inside = re.findall(r"^localrule (\w+):$", log.read_text(), re.M)
        assert inside, f"{log} ran no job"
        ran.update(inside)
        top = log.relative_to(root).parts[0]
        if top.startswith("group_"):
            groups[top.removeprefix("group_").split("_")[0]] += 1
    remote_rules = {rule: n for rule, n in expected.items() if rule not in local_rules()}
    assert dict(ran) == remote_rules
    # Grouping put the many short jobs into fewer SLURM jobs.
    assert set(groups) == {"analysis", "figures"}, groups
    assert len(slurm_jobs) < sum(remote_rules.values())
    print(f"{sum(remote_rules.values())} jobs ran in {len(slurm_jobs)} SLURM jobs: {groups}")

    compare_outputs(local / "results", remote / "results")
