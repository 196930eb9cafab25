"""Executors: run independent sweep points (DESIGN.md, "Data flow": serial | process pool | Ray).

The engine only calls :meth:`Executor.map` with a picklable top-level function and picklable
tasks, and gets back small picklable summaries in task order; a distributed backend plugs in by
implementing the same method.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from boundcheck.errors import ParameterError

__all__ = [
    "EXECUTORS",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "TaskFailure",
    "make_executor",
    "run_with_retry",
]


@dataclass
class TaskFailure:
    """A task that raised on every try: the engine reports it as a finding for its point."""

    error: str  # "ExceptionType: message"
    traceback: str
    tries: int


def run_with_retry(fn: Callable[[Any], Any], task: Any, retries: int = 1) -> Any:
    """``fn(task)``, retried ``retries`` times if it raises; a :class:`TaskFailure` if it never
    succeeds. A user's bad input (``BoundcheckError``) is not retried: it propagates."""
    from boundcheck.errors import BoundcheckError

    tries = 0
    while True:
        tries += 1
        try:
            return fn(task)
        except BoundcheckError:
            raise
        except Exception as err:  # a failed point is a finding, never a crash of the whole run
            if tries > retries:
                return TaskFailure(f"{type(err).__name__}: {err}", traceback.format_exc(), tries)


class Executor:
    """``map(fn, tasks, on_done)`` -> results in task order; ``on_done(i)`` after each task."""

    name = "executor"

    def map(
        self,
        fn: Callable[[Any], Any],
        tasks: list[Any],
        on_done: Callable[[int], None] | None = None,
    ) -> list[Any]:
        raise NotImplementedError


class SerialExecutor(Executor):
    name = "serial"

    def map(self, fn, tasks, on_done=None):
        out = []
        for i, t in enumerate(tasks):
            out.append(run_with_retry(fn, t))
            if on_done:
                on_done(i)
        return out


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


class ProcessExecutor(Executor):
    """A local process pool (``spawn``: safe with torch); ``jobs`` workers, default the CPUs."""

    name = "process"

    def __init__(self, jobs: int | None = None):
        self.jobs = jobs or os.cpu_count() or 1

    def map(self, fn, tasks, on_done=None):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        if not tasks:
            return []
        out: list[Any] = [None] * len(tasks)
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(
            min(self.jobs, len(tasks)), mp_context=ctx, initializer=_init_worker
        ) as pool:
            futs = {pool.submit(run_with_retry, fn, t): i for i, t in enumerate(tasks)}
            for f in as_completed(futs):
                i = futs[f]
                out[i] = f.result()
                if on_done:
                    on_done(i)
        return out


EXECUTORS = ("serial", "process", "ray")


def make_executor(
    name: str,
    jobs: int | None = None,
    address: str | None = None,
    quiet: bool = False,
    gpus_per_task: float = 0.0,
) -> Executor:
    """``serial`` (default), ``process`` (a local pool of ``jobs`` workers) or ``ray`` (a local
    Ray with ``jobs`` CPUs, or the cluster at ``address``; needs ``boundcheck[ray]``). On Ray a task
    asks for ``gpus_per_task`` GPUs (the engine asks for one when a spec runs on CUDA)."""
    if address is not None and name != "ray":
        raise ParameterError(f"--address {address!r} is not allowed without --executor ray")
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(jobs)
    if name == "ray":
        from boundcheck.check.executor_ray import RayExecutor

        return RayExecutor(address, num_cpus=jobs, num_gpus=gpus_per_task, quiet=quiet)
    raise ParameterError(f"executor {name!r} is not allowed; allowed: {', '.join(EXECUTORS)}")


def _iter(x: Iterable[Any]) -> list[Any]:  # pragma: no cover - helper for backends
    return list(x)
