"""Reference runs of the AsyncBC-paper methods (AsyncBC-GD/-SGD, Async-GD/-SGD, SARAH) for
``test_async_golden.py``: the numbers these exact calls produced before issue 9's lean event loop
was tightened further (generated at commit 0c4b3a0 with ``python tests/algorithms/golden_async.py``,
stored in ``data/golden_async.json`` with the CPU capability of the machine that made them).

The calls cover R = 1, 7 and 64, AsyncBC-GD and -SGD (shared and independent samples, and an
oracle with independent noise, AsyncBC Theorem 3), ``record_x`` on and off, float64 and float32, a
per-replica stepsize grid, ``tau_C = 1`` (SARAH), a pinned schedule, and a ring of rows that wraps
around (``T + 1`` larger than the recording block).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import torch
from golden_sync import GoldenQuad

DATA = Path(__file__).parent / "data" / "golden_async.json"
SMALL = 32  # tensors up to this many entries are stored whole


class GoldenQuadIndep(GoldenQuad):
    """:class:`GoldenQuad` with AsyncBC Theorem 3's oracle: ``grad f_i(x_new) - grad f_i(x_old) +
    sigma xi`` (the noise does not cancel in the difference)."""

    def grad_difference_i(self, x_new, x_old, sample, clients=None):
        g = self.grad_i(x_new, clients) - self.grad_i(x_old, clients)
        return g if sample is None else g + self.sigma * sample


def _entry(v: torch.Tensor) -> dict[str, Any]:
    """One tensor: the SHA-256 of its float64 bytes (the exact check), and its values rounded to
    13 digits where it has at most ``SMALL`` entries, else the first and last ``SMALL // 2`` of its
    flattened values and the sum of all (the portable check, with a tolerance)."""
    t = v.detach().double().contiguous().cpu()
    flat = t.reshape(-1).tolist()
    out: dict[str, Any] = {"sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest(),
                           "shape": list(t.shape)}  # fmt: skip
    r = lambda xs: [float(f"{x:.13g}") for x in xs]  # noqa: E731
    if len(flat) <= SMALL:
        out["values"] = r(flat)
    else:
        out["head"], out["tail"] = r(flat[: SMALL // 2]), r(flat[-SMALL // 2 :])
        out["sum"] = float(f"{math.fsum(flat):.13g}")
    return out


def _keep(tr) -> dict[str, dict[str, Any]]:
    ts = {k: v for k, v in sorted(tr.series.items()) if torch.is_tensor(v)}
    ts["diverged_at"] = tr.diverged_at
    ts["x_final"] = tr.meta["x_final"]
    if "tau_max_per_replica" in tr.meta:
        ts["tau_max_per_replica"] = torch.tensor(tr.meta["tau_max_per_replica"])
    return {k: _entry(v) for k, v in ts.items()}


def runs() -> dict[str, dict[str, dict[str, Any]]]:
    """Every reference run: name -> {series name: :func:`_entry`}."""
    from boundcheck.algorithms.async_sim import asyncbc_schedule
    from boundcheck.algorithms.asyncbc import async_gd, async_sgd, asyncbc_gd, asyncbc_sgd, sarah

    f64, f32 = torch.float64, torch.float32
    out: dict[str, dict[str, dict[str, Any]]] = {}
    p = GoldenQuad(6, 5, 0.3, f64, seed=11)
    pi = GoldenQuadIndep(6, 5, 0.3, f64, seed=12)
    wide = GoldenQuad(5, 700, 0.3, f64, seed=13)  # R d = 4900: a ring of 26 rows, T = 40 wraps
    p32 = GoldenQuad(6, 5, 0.3, f32, seed=14)
    for R, T in ((1, 40), (7, 30), (64, 12)):
        kw = dict(T=T, R=R, seed=5, eta=0.05, tau_C=3, first_replica=1)
        for rec in (False, True):
            tag = f"R{R}_{'x' if rec else 'nox'}"
            out[f"asyncbc_gd_{tag}"] = _keep(asyncbc_gd(p, record_x=rec, **kw))
            out[f"asyncbc_sgd_{tag}"] = _keep(asyncbc_sgd(p, record_x=rec, **kw))
        out[f"asyncbc_sgd_indep_R{R}"] = _keep(asyncbc_sgd(p, sampling="independent", **kw))
        out[f"asyncbc_sgd_thm3_R{R}"] = _keep(asyncbc_sgd(pi, **kw))
        out[f"async_gd_R{R}"] = _keep(async_gd(p, **kw))
        out[f"async_sgd_R{R}"] = _keep(async_sgd(p, **kw))
    grid = torch.tensor([0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4], dtype=f64)
    out["asyncbc_gd_eta_grid"] = _keep(asyncbc_gd(p, T=25, R=7, seed=2, eta=grid, tau_C=4))
    out["asyncbc_sgd_eta_grid"] = _keep(asyncbc_sgd(p, T=25, R=7, seed=2, eta=grid, tau_C=4))
    out["asyncbc_gd_tauc1"] = _keep(asyncbc_gd(p, T=20, R=7, seed=3, eta=0.1, tau_C=1))
    out["asyncbc_gd_tauc6_parallel"] = _keep(
        asyncbc_gd(p, T=20, R=7, seed=3, eta=0.05, tau_C=6, busy="parallel", tau=3.0)
    )
    pin = asyncbc_schedule(n=6, T=30, tau_C=3, seed=9)
    out["asyncbc_sgd_pinned"] = _keep(
        asyncbc_sgd(p, T=30, R=7, seed=4, eta=0.05, tau_C=3, schedule=pin)
    )
    out["asyncbc_gd_wrap_R7"] = _keep(asyncbc_gd(wide, T=40, R=7, seed=6, eta=0.05, tau_C=3))
    out["asyncbc_sgd_wrap_R7"] = _keep(asyncbc_sgd(wide, T=40, R=7, seed=6, eta=0.05, tau_C=3))
    out["asyncbc_sgd_wrap_R1"] = _keep(asyncbc_sgd(wide, T=300, R=1, seed=6, eta=0.05, tau_C=3))
    out["asyncbc_sgd_f32_R7"] = _keep(asyncbc_sgd(p32, T=30, R=7, seed=7, eta=0.05, tau_C=3))
    out["asyncbc_gd_f32_R1"] = _keep(asyncbc_gd(p32, T=30, R=1, seed=7, eta=0.05, tau_C=3))
    out["sarah_sgd_R7"] = _keep(sarah(p, T=20, R=7, seed=8, eta=0.05, stochastic=True))
    return out


def capability() -> str:
    """The CPU kernel set torch uses here (``AVX2``, ``AVX512``, ...): the golden numbers are
    bit-identical on a machine with the same one."""
    return str(torch.backends.cpu.get_cpu_capability())


if __name__ == "__main__":
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps({"capability": capability(), "runs": runs()}, sort_keys=True) + "\n")
    print(f"wrote {DATA}")
