"""Executors (issue 16): every backend returns the same results in task order, a task that fails
twice becomes a TaskFailure (a finding for its point), a task that fails once is retried."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boundcheck.check.executor import TaskFailure, make_executor, run_with_retry
from boundcheck.errors import ParameterError


def square_plus_seed(task: tuple[int, int]) -> float:
    """A deterministic task whose result depends on its seed through torch's generator."""
    import torch

    x, seed = task
    g = torch.Generator().manual_seed(seed)
    return float(x * x + torch.rand(1, generator=g, dtype=torch.float64).item())


def boom(task: int) -> int:
    if task == 3:
        raise RuntimeError(f"task {task} exploded")
    return task


def flaky(task: tuple[str, int]) -> int:
    """Fails on its first try (marker file absent), succeeds on the second."""
    marker, value = task
    p = Path(marker)
    if not p.exists():
        p.write_text("tried once")
        raise OSError("transient failure")
    return value


TASKS = [(i, 1000 + i) for i in range(12)]


@pytest.mark.parametrize("name", ["serial", "process"])
def test_local_executors_agree_with_plain_map(name: str) -> None:
    ex = make_executor(name, jobs=2)
    done: list[int] = []
    out = ex.map(square_plus_seed, TASKS, on_done=done.append)
    assert out == [square_plus_seed(t) for t in TASKS]
    assert sorted(done) == list(range(len(TASKS)))


@pytest.mark.parametrize("name", ["serial", "process"])
def test_failing_task_becomes_a_failure_for_its_point(name: str) -> None:
    out = make_executor(name, jobs=2).map(boom, list(range(6)))
    assert [o for i, o in enumerate(out) if i != 3] == [0, 1, 2, 4, 5]
    assert isinstance(out[3], TaskFailure)
    assert "task 3 exploded" in out[3].error and out[3].tries == 2
    assert "RuntimeError" in out[3].traceback


def test_transient_failure_is_retried(tmp_path: Path) -> None:
    assert run_with_retry(flaky, (str(tmp_path / "m"), 7), retries=1) == 7
    out = run_with_retry(flaky, (str(tmp_path / "n"), 7), retries=0)
    assert isinstance(out, TaskFailure) and out.tries == 1


def test_bad_executor_names_are_refused() -> None:
    with pytest.raises(ParameterError, match="'dask' is not allowed"):
        make_executor("dask")
    with pytest.raises(ParameterError, match="without --executor ray"):
        make_executor("serial", address="auto")


@pytest.fixture(scope="module")
def ray_executor():
    pytest.importorskip("ray")
    from boundcheck.check.executor_ray import RayExecutor

    ex = RayExecutor(num_cpus=2, quiet=True)
    yield ex
    ex.shutdown()


def test_ray_matches_serial_and_keeps_order(ray_executor) -> None:
    done: list[int] = []
    out = ray_executor.map(square_plus_seed, TASKS, on_done=done.append)
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"  # no traffic a user did not ask for
    assert out == make_executor("serial").map(square_plus_seed, TASKS)
    assert sorted(done) == list(range(len(TASKS)))


@pytest.mark.parametrize("chunk", [1, 4, 100])
def test_ray_failure_becomes_task_failure_whatever_the_chunking(ray_executor, chunk) -> None:
    ray_executor.chunk_size = chunk
    try:
        out = ray_executor.map(boom, list(range(8)))
    finally:
        ray_executor.chunk_size = None
    assert isinstance(out[3], TaskFailure) and "task 3 exploded" in out[3].error
    assert [o for i, o in enumerate(out) if i != 3] == [0, 1, 2, 4, 5, 6, 7]


def test_ray_retries_a_transient_failure(ray_executor, tmp_path: Path) -> None:
    out = ray_executor.map(flaky, [(str(tmp_path / f"m{i}"), i) for i in range(4)])
    assert out == [0, 1, 2, 3]


def test_default_chunk_size() -> None:
    from boundcheck.check.executor_ray import default_chunk_size

    assert default_chunk_size(200, 2) == 25
    assert default_chunk_size(3, 16) == 1
    assert default_chunk_size(0, 2) == 1


def _numbers(run) -> list[tuple]:
    return [
        (
            c.spec_id,
            tuple(sorted(p.point.items())),
            p.measured,
            p.ci_low,
            p.ci_high,
            p.bound,
            p.verdict,
            p.median,
            p.max,
        )
        for c in run.checks
        for p in c.points
    ]


def test_small_report_on_ray_has_exactly_the_serial_numbers(ray_executor) -> None:
    """Issue 16: the same specs and seed give the same numbers serial and on a local Ray."""
    from boundcheck.check.engine import run_specs

    specs = ["fedpaq_thm2", "asyncbc_thm1"]
    serial = run_specs(specs, scale="ci", cache_dir="", progress=False)
    ray = run_specs(specs, scale="ci", cache_dir="", progress=False, executor="ray")
    assert _numbers(ray) == _numbers(serial)
    assert any(p.measured is not None for c in serial.checks for p in c.points)
    assert ray.environment.get("executor", "ray") == "ray"


def test_a_task_that_raises_becomes_an_error_finding_for_its_point(monkeypatch) -> None:
    """A failure outside the point's own guard (here: the task function itself raises) is retried
    and then reported as an ``error`` point with the message, never a hole in the run."""
    from boundcheck.check import engine

    real = engine.run_point
    calls: list[int] = []

    def failing_second_point(task):
        calls.append(1)
        if task["point"].get("T") == 400:
            raise RuntimeError("simulated worker failure at T=400")
        return real(task)

    monkeypatch.setattr(engine, "run_point", failing_second_point)
    run = engine.run_specs(["fedpaq_thm2"], scale="ci", cache_dir="", progress=False)
    pts = {p.point["T"]: p for p in run.checks[0].points}
    assert pts[400].verdict == "error"
    assert any("simulated worker failure" in n for n in pts[400].notes + run.checks[0].findings)
    assert pts[1600].verdict == "holds"
    assert len(calls) == 4  # three points, the failing one tried twice


def test_ray_task_asks_for_a_gpu_when_the_spec_runs_on_cuda() -> None:
    """Device placement (issue 16): the executor built for CUDA specs requests one GPU per task."""
    pytest.importorskip("ray")
    ex = make_executor("ray", jobs=2, quiet=True, gpus_per_task=1.0)
    assert ex.num_gpus == 1.0 and ex._ray is None  # nothing started until a map
    assert make_executor("ray", quiet=True).num_gpus == 0.0
