"""Wall time and peak memory of every stage of one `dvc repro`, then the wall time of a second,
no-op `dvc repro`.

    python bench/pipeline.py                           # the pipeline as params.yaml sets it
    python bench/pipeline.py --force                   # rerun every stage, up to date or not
    python bench/pipeline.py --force --single-item evaluate_classifier

Arguments go to `dvc repro` unchanged. Peak memory is the high-water mark of each stage
process's resident memory (VmHWM in /proc/<pid>/status, so Linux only), read every 0.2 s
while `dvc repro` runs; a stage's process is recognized by its command from dvc.yaml.
A peak reached in the last 0.2 s of a stage's life can be missed.
"""

import subprocess
import sys
import time
from dataclasses import dataclass

import psutil
from dvc.repo import Repo

POLL_SECONDS = 0.2
TARGETS = {"stage_gib": 4.0, "pipeline_minutes": 30.0, "noop_seconds": 5.0}


@dataclass
class StageRun:
    cmd: str
    first_seen: float = 0.0
    last_seen: float = 0.0
    peak_kib: int = 0


def peak_rss_kib(pid: int) -> int:
    """The process's resident-memory high-water mark (VmHWM), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1])
    except (OSError, StopIteration):
        return 0


def watch(proc: subprocess.Popen, stages: dict[str, StageRun]) -> None:
    """Poll `proc`'s descendants until it exits; credit each to the stage whose cmd it runs."""
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        now = time.perf_counter()
        for child in parent.children(recursive=True):
            try:
                cmdline = " ".join(child.cmdline())
            except psutil.Error:
                continue
            for run in stages.values():
                if run.cmd and run.cmd in cmdline:
                    run.first_seen = run.first_seen or now
                    run.last_seen = now
                    run.peak_kib = max(run.peak_kib, peak_rss_kib(child.pid))
        time.sleep(POLL_SECONDS)


def timed_repro(args: list[str], stages: dict[str, StageRun] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(["dvc", "repro", *args])
    if stages is not None:
        watch(proc, stages)
    if proc.wait() != 0:
        sys.exit(f"dvc repro {' '.join(args)} failed with status {proc.returncode}")
    return time.perf_counter() - start


def report(stages: dict[str, StageRun], wall: float, noop: float) -> None:
    print(f"\n{'stage':32} {'seconds':>9} {'peak MiB':>9}")
    ran = {name: run for name, run in stages.items() if run.first_seen}
    for name, run in ran.items():
        seconds = run.last_seen - run.first_seen + POLL_SECONDS
        print(f"{name:32} {seconds:9.1f} {run.peak_kib / 1024:9.0f}")
    peak = max((run.peak_kib for run in ran.values()), default=0) / 2**20
    print(
        f"\nstages run: {len(ran)} of {len(stages)}; largest peak: {peak:.2f} GiB "
        f"(target: under {TARGETS['stage_gib']} GiB)"
    )
    print(
        f"dvc repro: {wall:.1f} s = {wall / 60:.1f} min "
        f"(target for the default pipeline: under {TARGETS['pipeline_minutes']:.0f} min)"
    )
    print(f"second, no-op dvc repro: {noop:.1f} s (target: under {TARGETS['noop_seconds']:.0f} s)")


def main(argv: list[str]) -> None:
    stages = {
        stage.addressing: StageRun(getattr(stage, "cmd", "") or "")
        for stage in Repo(".").index.stages
    }
    wall = timed_repro(argv, stages)
    noop = timed_repro([arg for arg in argv if arg not in ("-f", "--force")])
    report(stages, wall, noop)


if __name__ == "__main__":
    main(sys.argv[1:])
