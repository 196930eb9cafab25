"""The Ray backend of the engine's executor interface (issue 16): sweep points as Ray tasks.

``RayExecutor(address=None)`` starts a local Ray with this machine's cores, or connects to an
existing cluster at ``address`` (``"auto"`` or ``"ray://host:10001"``). Nothing imports Ray until an
executor is built, and Ray's usage statistics are off unless the user set
``RAY_USAGE_STATS_ENABLED`` (no traffic a user did not ask for).

Tasks go out in **chunks** (one Ray task runs several engine tasks in a row) so that Ray's per-task
scheduling overhead (about 1-3 ms per task on a 2-core machine, measured by
``benchmarks/bench_executors.py``) stays small next to the work: by default a chunk holds
``ceil(n / (4 * workers))`` tasks, so every worker gets about four chunks (load balance) and a sweep
of 200 points makes at most ``8 * workers`` Ray tasks. Results come back in task order and are the
small summaries the engine asks for, never traces.

Failures: a task that raises is retried once in place; if it fails again its result is a
:class:`~boundcheck.check.executor.TaskFailure` (error text and traceback), which the engine reports
as a finding for that point ("error" verdict), never a silent hole. A lost worker (a crashed process
or node) is re-run by Ray itself (``max_retries``). A task that wants a GPU asks Ray for one
(``num_gpus``), so a cluster with GPUs runs the batched simulations there.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from typing import Any

from boundcheck.check.executor import Executor, run_with_retry
from boundcheck.errors import ParameterError

__all__ = ["RayExecutor", "default_chunk_size"]


def default_chunk_size(n_tasks: int, workers: int) -> int:
    """``ceil(n / (4 workers))``, at least 1: about four chunks per worker."""
    return max(1, math.ceil(n_tasks / (4 * max(1, workers))))


def _run_chunk(fn: Callable[[Any], Any], chunk: list[Any], retries: int) -> list[Any]:
    """Run ``fn`` on every task of ``chunk`` (inside a Ray worker), failures captured per task."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return [run_with_retry(fn, t, retries) for t in chunk]


def _ship_by_value(fn: Callable[[Any], Any]) -> None:
    """Pickle ``fn``'s module by value when Ray's workers may not import it (a user's test file or
    script, e.g. their own algorithm); boundcheck's own modules travel by reference."""
    import importlib

    module = getattr(fn, "__module__", None)
    if not module or module == "__main__" or module.split(".")[0] == "boundcheck":
        return
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(importlib.import_module(module))


class RayExecutor(Executor):
    """Run the engine's tasks on Ray (see the module docstring)."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        num_gpus: float = 0.0,
        chunk_size: int | None = None,
        retries: int = 1,
        quiet: bool = False,
    ) -> None:
        if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
            raise ParameterError(
                f"chunk_size={chunk_size!r} is not allowed: expected an integer >= 1"
            )
        if num_gpus < 0:
            raise ParameterError(f"num_gpus={num_gpus!r} is not allowed: expected >= 0")
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = float(num_gpus)
        self.chunk_size = chunk_size
        self.retries = int(retries)
        self.quiet = quiet
        self._ray: Any = None
        self._started_here = False

    # --- connection ------------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self._ray is not None:
            return self._ray
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError as err:
            raise ParameterError(
                "--executor ray is not available: Ray is not installed; install it with "
                'pip install "boundcheck[ray]"'
            ) from err
        if not ray.is_initialized():
            where = self.address or f"a local Ray with {self.num_cpus or os.cpu_count()} CPUs"
            if not self.quiet:
                print(
                    f"boundcheck: starting {where} (Ray takes 10-30 s to start) ...",
                    file=sys.stderr,
                )
            kwargs: dict[str, Any] = dict(
                include_dashboard=False, log_to_driver=False, configure_logging=False
            )
            if self.address:
                kwargs["address"] = self.address
            else:  # a local Ray talks over loopback only
                kwargs["num_cpus"] = self.num_cpus or os.cpu_count() or 1
                kwargs["_node_ip_address"] = "127.0.0.1"
            try:
                ray.init(**kwargs)
            except (ConnectionError, ValueError, RuntimeError) as err:
                raise ParameterError(
                    f"--address {self.address!r} is not allowed: could not connect to a Ray "
                    f"cluster there ({err})"
                ) from err
            self._started_here = True
        self._ray = ray
        return ray

    def workers(self) -> int:
        """The cluster's CPUs (each runs one chunk at a time)."""
        ray = self._connect()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def shutdown(self) -> None:
        """Stop the local Ray this executor started (a cluster it connected to stays up)."""
        if self._ray is not None and self._started_here:
            self._ray.shutdown()
        self._ray = None
        self._started_here = False

    # --- the interface ---------------------------------------------------------------------------
    def map(
        self,
        fn: Callable[[Any], Any],
        tasks: list[Any],
        on_done: Callable[[int], None] | None = None,
    ) -> list[Any]:
        if not tasks:
            return []
        ray = self._connect()
        size = self.chunk_size or default_chunk_size(len(tasks), self.workers())
        remote = ray.remote(num_cpus=1, num_gpus=self.num_gpus, max_retries=3)(_run_chunk)
        _ship_by_value(fn)
        fn_ref = ray.put(fn)
        pending = {}
        for start in range(0, len(tasks), size):
            ref = remote.remote(fn_ref, tasks[start : start + size], self.retries)
            pending[ref] = start
        out: list[Any] = [None] * len(tasks)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                start = pending.pop(ref)
                for j, r in enumerate(ray.get(ref)):
                    out[start + j] = r
                    if on_done:
                        on_done(start + j)
        return out
