"""Throughput of the asynchronous methods (AsyncBC-GD, QAFeL) before and after the per-replica,
lean implementation (issues 8 and 9), against the machine's own limits measured in the same run.

A *client-step* is one local SGD step of one client in one replica (QAFeL: ``T K P R`` per run) or
one received gradient difference in one replica (AsyncBC-GD: one event, ``(T - 1) R`` per run).
"Before" is commit ``0ae7604`` (shared schedules, per-event recording), checked out into a temporary
``git worktree`` and measured by this same file in a subprocess (``--worker``) with that checkout
first on ``sys.path``; "after" is the working tree. Both measure the same problem, defined here so the
benchmark times the algorithms, not a problem family: a heterogeneous diagonal quadratic ``f_i(x) =
1/2 sum_j a_ij (x_j - b_ij)^2`` with Gaussian gradient noise and closed-form f, grad f, written as
lean as a problem can be (one gather per array, the exact gradient difference ``a_i (x_new -
x_old)``, f in two passes), so that the figures measure the algorithms' own work.

On "before" at R > 1: commit 0ae7604 ran every replica on one *shared* client sequence, so its
per-event work was one client's row broadcast over the replicas; "after" runs independent
per-replica schedules (issue 8), which gathers one client per replica. At R = 256, d = 100 an event
is then a handful of memory-bound passes over (R, d) arrays in both versions (oracle, message store
and gather, momentum, step, recording ||grad f||^2, f, ||m||^2), so the ratio there is bounded by the
ratio of pass counts, not by Python overhead; section 3 prints the fraction of the bandwidth limit.

Sections printed:

1. client-steps/s of AsyncBC-GD and QAFeL at R = 1, 64, 256, 1024 (n = 100, d = 100), before,
   after and the ratio (issue 8's benchmark; issue 9's AsyncBC goal is >= 10x at R = 1 and 256);
1b. AsyncBC-GD events/s on the shipped ``asyncbc_least_squares(n=100, d=100)`` at R = 1 and 256
   (issue 9's setting: before, every event recorded f and grad f over all n clients);
2. per server step vs R at d = 1: marginal wall time and marginal Python-level calls (cProfile's
   count of Python and C function calls). The call count is the "Python work per step": flat in R
   means no loop over replicas. The wall time also holds the vectorised O(R) work (the lockstep
   schedule simulation over replicas, per-replica arrays), which does grow with R;
3. the machine's limits (``benchmarks/_limits.py``), and per configuration the per-client-step
   counts (random numbers, bytes, flops), the limit each implies and the fraction reached of the
   binding one; QAFeL at R = 1024, n = 100, d = 1000, float32 (issue 9's goal: >= 60% of the
   random-number limit). For AsyncBC the bandwidth is a preallocated copy at the size of the event
   loop's working set (:func:`asyncbc_working_set`: in cache where it fits), measured in this run,
   and the line below says what 10x "before" would be as a fraction of that limit.

Timing is by this process's CPU time by default (``--clock cpu``; the limits, "before" and "after"
alike; wall time on CUDA or with ``--clock wall``), so that other work on a shared host counts as
little as possible; the load average is printed at the start and the end. The ratios come from one
run.

    python benchmarks/bench_algorithms.py [--quick] [--no-before] [--device cpu] [--clock cpu]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BEFORE = "0ae7604"
HERE = Path(__file__).resolve()


def _problem_class():
    import torch

    from boundcheck import rng
    from boundcheck.problems.base import Problem

    @dataclass
    class DiagQuadratic(Problem):
        a: torch.Tensor = None
        b: torch.Tensor = None
        noise: float = 0.1

        def _ab(self, clients):
            if clients is None:
                return self.a, self.b
            c = clients.reshape(-1)  # one gather per array, shaped (m, d) or (R, m, d)
            shape = (*clients.shape, self.d)
            return self.a.index_select(0, c).view(shape), self.b.index_select(0, c).view(shape)

        def f_i(self, x, clients=None):
            a, b = self._ab(clients)
            return 0.5 * (a * (x - b) ** 2).sum(-1)

        def grad_i(self, x, clients=None):
            a, b = self._ab(clients)
            return a * (x - b)

        def grad_difference_i(self, x_new, x_old, sample, clients=None):
            if sample is not None:  # Assumption 5: one shared sample (additive noise cancels)
                return super().grad_difference_i(x_new, x_old, sample, clients)
            a, _ = self._ab(clients)  # grad f_i(x_new) - grad f_i(x_old) = a_i (x_new - x_old)
            return torch.sub(x_new, x_old).mul_(a)

        def f(self, x):  # closed form of 1/n sum_i f_i: 1/2 x.(a x - 2 ab) + 1/2 sum abb
            return (
                torch.linalg.vecdot(x, torch.addcmul(self.ab2_bar, self.a_bar, x))
                .mul_(0.5)
                .add_(self.abb_half)
            )

        def grad(self, x):
            return self.a_bar * x - self.ab_bar

        def sample(self, R, clients, generator):
            m = self.n if clients is None else clients.shape[-1]
            return rng.normal(generator, (R, m, self.d), dtype=self.dtype, device=self.device)

        def stochastic_grad_i(self, x, sample, clients=None):
            g = self.grad_i(x, clients)
            return g if sample is None else g.add_(sample, alpha=self.noise)

    return DiagQuadratic


def make_problem(n: int, d: int, device: str, dtype):
    import torch

    g = torch.Generator().manual_seed(0)
    a = (0.5 + torch.rand(n, d, generator=g)).to(device=device, dtype=dtype)
    b = torch.randn(n, d, generator=g).to(device=device, dtype=dtype)
    p = _problem_class()(n=n, d=d, dtype=dtype, device=device, a=a, b=b)
    p.a_bar, p.ab_bar, p.abb_bar = a.mean(0), (a * b).mean(0), (a * b * b).mean(0)
    p.ab2_bar, p.abb_half = -2 * p.ab_bar, 0.5 * float(p.abb_bar.sum())
    return p


# --- one measurement (runs in this process, against whichever boundcheck is importable) ----------
def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _clock(device: str):
    """CPU time of this process (``BENCH_CLOCK=cpu``, the default on CPU: other processes on a
    shared host do not count) or wall time (``wall``; always on CUDA)."""
    cpu = os.environ.get("BENCH_CLOCK", "cpu") == "cpu" and not device.startswith("cuda")
    return time.process_time if cpu else time.perf_counter


def _calls(f) -> int:
    """Python-level function calls (Python and C functions, as cProfile counts them) of ``f()``."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    f()
    prof.disable()
    return pstats.Stats(prof).total_calls


def run_one(algo: str, R: int, n: int, d: int, T: int, dtype_name: str, device: str,
            count_calls: bool = False) -> dict:  # fmt: skip
    """Seconds and client-steps of a call with ``T`` and one with ``2 T`` server steps (after a
    small warm-up call): their difference is the marginal cost of ``T`` steps, without the fixed
    set-up (per-replica generators, schedules, plans). As ``timeit``, the cyclic garbage collector
    is run before and paused during each timed call (a full collection of the process's objects,
    ~50 ms here, landed in about one 12 ms call in 25)."""
    import torch

    from boundcheck.algorithms.asyncbc import asyncbc_gd
    from boundcheck.algorithms.qafel import qafel
    from boundcheck.compressors import QSGDBits

    dtype = getattr(torch, dtype_name)
    if algo == "asyncbc_ls":  # the shipped family of AsyncBC Section 5 (its own f, grad f)
        from boundcheck.problems.least_squares import asyncbc_least_squares

        p = asyncbc_least_squares(n=n, d=d, zeta=1.0, seed=0, device=device)
        algo = "asyncbc"
    else:
        p = make_problem(n, d, device, dtype)
    q4 = QSGDBits(4)
    K, P = 10, 5

    def call(R_: int, T_: int):
        if algo == "qafel":
            return qafel(p, T=T_, R=R_, seed=0, eta_l=0.01, eta_g=1.0, K=K, P=P, concurrency=20,
                         client_compressor=q4, server_compressor=q4, dtype=dtype)  # fmt: skip
        return asyncbc_gd(p, T=T_, R=R_, seed=0, eta=0.01, tau_C=min(10, n), dtype=dtype)

    call(min(R, 2), 3)
    times = []
    for T_ in (T, 2 * T):
        _sync(device)
        gc.collect()  # as timeit: no cyclic collection of earlier garbage inside the timed call
        gc.disable()
        try:
            t0 = _clock(device)()
            call(R, T_)
            _sync(device)
            times.append(_clock(device)() - t0)
        finally:
            gc.enable()
    steps = T if algo == "qafel" else T - 1  # server steps (AsyncBC: events) of the T call
    per = R * (K * P if algo == "qafel" else 1)
    # the 2T call must cost visibly more than the T call, else the difference is noise (NaN)
    marginal = times[1] - times[0] if times[1] > 1.2 * times[0] else float("nan")
    calls = None
    if count_calls:  # marginal calls per server step: (calls(2T) - calls(T)) / T
        calls = (_calls(lambda: call(R, 2 * T)) - _calls(lambda: call(R, T))) / T
    return {"seconds": times[0], "client_steps": steps * per, "server_steps": steps,
            "marginal_seconds": marginal, "marginal_steps": T, "marginal_client_steps": T * per,
            "setup_seconds": max(times[0] - marginal * steps / T, 0.0) if marginal == marginal
            else float("nan"),
            "calls_per_step": calls}  # fmt: skip


def worker(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    import boundcheck

    out = [run_one(*cfg) for cfg in json.loads(args.worker)]
    for o in out:
        o["boundcheck"] = boundcheck.__file__
    print(json.dumps(out))


def measure(configs: list[tuple], root: Path | None, threads: int) -> list[dict]:
    """Run ``configs`` in a subprocess with ``root`` (a checkout) first on ``sys.path``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root if root is not None else HERE.parent.parent)
    cmd = [sys.executable, str(HERE), "--worker", json.dumps(configs), "--threads", str(threads)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"worker failed ({root}): {res.stderr.strip().splitlines()[-1:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def before_checkout(tmp: Path) -> Path:
    repo = HERE.parent.parent
    path = tmp / "before"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(path), BEFORE],
                   check=True, capture_output=True)  # fmt: skip
    return path


# --- per-client-step counts and the binding limit ----------------------------------------------
def counts(algo: str, d: int, itemsize: int, K: int = 10, P: int = 5) -> dict[str, float]:
    """Minimal work per client-step: random numbers (normal, uniform), bytes moved, flops.

    QAFeL: one local step draws ``d`` normals (oracle noise) and reads and writes the local iterate
    (``2 d`` numbers); per message (every ``P`` steps) the client qsgd draws ``d`` uniforms, per server
    step (every ``K P`` client steps) the server qsgd ``d``; about ``5 d`` flops (gradient, axpy).
    AsyncBC-GD, one event of one replica, as one fused pass would do it: read the received
    difference, ``m_{t-1}`` and ``x_t``, write ``m_t`` and ``x_{t+1}`` (lines 5-7), read the new
    client's row ``a_k`` and write its difference ``a_k (x_{t+1} - x_t)`` into the tasks in flight
    (lines 8-9): ``7 d`` numbers; the recording of ``||grad f(x_t)||^2``, ``f(x_t)``, ``||m_t||^2``
    reads nothing more (``x_t``, ``m_t`` are at hand; the mean's ``a``, ``ab`` are shared by the
    replicas). Flops: ``d`` (momentum) + ``2 d`` (step) + ``2 d`` (difference) + ``10 d`` (gradient
    of the mean and its squared norm, f, ``||m||^2``) = ``15 d``. No random numbers beyond the
    schedule.
    """
    if algo == "qafel":
        return {"normal": d, "uniform": d / P + d / (K * P), "bytes": 2 * d * itemsize,
                "flops": 5 * d}  # fmt: skip
    return {"normal": 0.0, "uniform": 0.0, "bytes": 7 * d * itemsize, "flops": 15 * d}


def asyncbc_working_set(R: int, n: int, d: int, tau_C: int, itemsize: int) -> int:
    """Bytes an AsyncBC event loop cycles through every step: ``x_t, x_{t+1}, m_{t-1}, m_t`` and the
    ``tau_C`` messages in flight of every replica (``R d (4 + tau_C)`` numbers), and the clients'
    rows ``a`` (``n d``)."""
    return (R * d * (4 + tau_C) + n * d) * itemsize


def working_set_copy_GBps(nbytes: int, device: str, clock) -> float:
    """Preallocated copy bandwidth (bytes read + written per second) between two buffers that
    together hold ``nbytes`` (at least 64 KiB, so that the copy, not the call, is timed; repeated
    to about 16 MiB per timed run): in cache where ``nbytes`` fits, from memory where it does not.
    The bandwidth limit an event loop with that working set can reach."""
    import torch
    from _limits import time_median

    half = max(nbytes, 1 << 16) // 2 // 4
    src = torch.ones(half, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    reps = max(1, (1 << 24) // (2 * 4 * half))

    def run() -> None:
        for _ in range(reps):
            dst.copy_(src)

    return reps * 2 * 4 * half / time_median(run, 5, device, clock) / 1e9


def limit_rates(c: dict[str, float], lim: dict[str, float], tag: str) -> dict[str, float]:
    """Client-steps/s each limit allows (inf where the step needs none of it)."""
    inf = float("inf")
    # the faster of the serial (one 2^22 buffer) and the per-replica (cache-sized blocks) rates
    normal = max(lim[f"rng_normal_{tag}"], lim[f"replica_rng_normal_{tag}"])
    rng_t = c["normal"] / normal + c["uniform"] / lim[f"rng_uniform_{tag}"]
    return {
        "RNG": 1 / rng_t if rng_t > 0 else inf,
        "bandwidth": lim["copy_GBps"] * 1e9 / c["bytes"],
        "FLOPs": lim[f"matmul_{tag}_flops"] / c["flops"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-before", action="store_true", help="skip the 'before' measurement")
    ap.add_argument("--quick", action="store_true", help="shorter runs (noisier figures)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="time by this process's CPU time (default; CPU only) or wall time")  # fmt: skip
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    sys.path.insert(0, str(HERE.parent))
    import torch
    from _limits import limits

    torch.set_num_threads(args.threads)
    dev = args.device
    if dev.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is not available on this machine: no GPU figures.")
        return
    q = 0.5 if args.quick else 1.0
    Rs = (1, 64, 256, 1024)
    # (algo, R, n, d, T, dtype, device); T chosen so each run takes a fraction of a second or more
    cfgs = [("asyncbc", R, 100, 100, max(50, int(q * {1: 3000, 64: 1500, 256: 800, 1024: 300}[R])),
             "float64", dev) for R in Rs]  # fmt: skip
    cfgs += [("qafel", R, 100, 100, max(3, int(q * {1: 40, 64: 20, 256: 10, 1024: 6}[R])),
              "float64", dev) for R in Rs]  # fmt: skip
    flat = [("asyncbc", R, 100, 1, max(50, int(q * 1000)), "float64", dev, True) for R in Rs]
    flat += [("qafel", R, 100, 1, max(3, int(q * 20)), "float64", dev, True) for R in Rs]
    goal = [("qafel", 1024, 100, 1000, 5, "float32", dev)]
    # issue 9's AsyncBC setting: the shipped least-squares family (before: per-event recording
    # over all n clients; after: this branch's loop and the problems' structured f, grad f)
    ls = [("asyncbc_ls", R, 100, 100, max(20, int(q * {1: 200, 256: 60}[R])), "float64", dev)
          for R in (1, 256)]  # fmt: skip

    print(f"device={dev} torch threads={args.threads} (machine may be shared: figures as measured)")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    os.environ["BENCH_CLOCK"] = args.clock  # the workers (before and after) time the same way
    clock = _clock(dev)
    print(f"clock: {'process CPU time' if clock is time.process_time else 'wall time'}")
    lim = limits(dev, clock=clock)
    print("machine limits (this run):")
    for k, v in lim.items():
        print(f"  {k:26s} {v:12.4g}")

    after = measure(cfgs + flat + goal + ls, None, args.threads)
    before = None
    if not args.no_before:
        with tempfile.TemporaryDirectory() as tmp:
            root = before_checkout(Path(tmp))
            try:
                before = measure(cfgs + flat + goal + ls, root, args.threads)
            finally:
                subprocess.run(["git", "-C", str(HERE.parent.parent), "worktree", "remove",
                                "--force", str(root)], check=False, capture_output=True)  # fmt: skip

    def rate(r: dict | None, marginal: bool) -> float:
        if r is None:
            return float("nan")
        if marginal:
            return r["marginal_client_steps"] / r["marginal_seconds"]
        return r["client_steps"] / r["seconds"]

    print(
        "\n1. client-steps/s, n = 100, d = 100, float64 (AsyncBC-GD: one event = one client-step)"
    )
    print("   whole call (set-up included) | marginal (extra T steps, set-up excluded)")
    print(f"   {'algo':8s} {'R':>5s} {'before':>10s} {'after':>10s} {'ratio':>7s} | "
          f"{'before':>10s} {'after':>10s} {'ratio':>7s} | after set-up s")  # fmt: skip
    for i, c in enumerate(cfgs):
        rb = before[i] if before else None
        w = [rate(rb, False), rate(after[i], False), rate(rb, True), rate(after[i], True)]
        print(f"   {c[0]:8s} {c[1]:5d} {w[0]:10.4g} {w[1]:10.4g} {w[1] / w[0]:6.2f}x | "
              f"{w[2]:10.4g} {w[3]:10.4g} {w[3] / w[2]:6.2f}x | "
              f"{after[i]['setup_seconds']:.3f}")  # fmt: skip

    print("   issue 9's AsyncBC goal (>= 10x before at R = 1 and 256, whole and marginal):")
    for i, c in enumerate(cfgs):
        if c[0] == "asyncbc" and c[1] in (1, 256) and before:
            rw = rate(after[i], False) / rate(before[i], False)
            rm = rate(after[i], True) / rate(before[i], True)
            print(f"     R={c[1]:4d}: whole {rw:5.2f}x, marginal {rm:5.2f}x: "
                  f"{'met' if min(rw, rm) >= 10 else 'not met'}")  # fmt: skip

    print("\n1b. AsyncBC-GD events/s on asyncbc_least_squares(n = 100, d = 100) (issue 9's goal)")
    l0 = len(cfgs) + len(flat) + len(goal)
    for j, c in enumerate(ls):
        rb = before[l0 + j] if before else None
        w = [rate(rb, False), rate(after[l0 + j], False), rate(rb, True), rate(after[l0 + j], True)]
        print(f"   R={c[1]:5d} whole: before {w[0]:10.4g} after {w[1]:10.4g} ({w[1] / w[0]:6.1f}x) | "
              f"marginal: before {w[2]:10.4g} after {w[3]:10.4g} ({w[3] / w[2]:6.1f}x)")  # fmt: skip

    print(
        "\n2. per server step vs R at d = 1: marginal wall time and Python-level calls (calls flat"
    )
    print("   in R = no loop over replicas; the time also holds vectorised O(R) work)")
    off = len(cfgs)
    for algo in ("asyncbc", "qafel"):
        row_a, row_b = [], []
        for j, c in enumerate(flat):
            if c[0] != algo:
                continue
            r_a = after[off + j]
            row_a.append(
                f"R={c[1]}: {1e6 * r_a['marginal_seconds'] / r_a['marginal_steps']:8.1f} us, "
                f"{r_a['calls_per_step']:7.1f} calls"
            )
            if before:
                r_b = before[off + j]
                row_b.append(
                    f"R={c[1]}: {1e6 * r_b['marginal_seconds'] / r_b['marginal_steps']:8.1f} us, "
                    f"{r_b['calls_per_step']:7.1f} calls"
                )
        print(f"   {algo:8s} after : " + " | ".join(row_a))
        if before:
            print(f"   {algo:8s} before: " + " | ".join(row_b))

    print(
        "\n3. fraction of the binding limit, marginal rates (minimal per-client-step counts, counts())"
    )
    rows = [(c, after[i], before[i] if before else None) for i, c in enumerate(cfgs)]
    g0 = off + len(flat)
    rows += [(goal[0], after[g0], before[g0] if before else None)]
    ws_bw: dict[int, float] = {}
    for c, ra, rb in rows:
        algo, R, _n, d, _, dt, _ = c
        tag = "f32" if dt == "float32" else "f64"
        cnt = counts(algo, d, 4 if dt == "float32" else 8)
        lr = limit_rates(cnt, lim, tag)
        if algo == "asyncbc":  # bandwidth at the loop's working set (in cache where it fits)
            ws = asyncbc_working_set(R, _n, d, min(10, _n), 4 if dt == "float32" else 8)
            if ws not in ws_bw:
                ws_bw[ws] = working_set_copy_GBps(ws, dev, clock)
            lr["bandwidth"] = ws_bw[ws] * 1e9 / cnt["bytes"]
            print(f"   {algo:8s} R={R:5d}: working set {ws / 2**20:.2f} MiB, copy bandwidth at "
                  f"that size {ws_bw[ws]:.1f} GB/s (this run)")  # fmt: skip
        bind = min(lr, key=lr.get)
        a = rate(ra, True)
        fb = f" (before {rate(rb, True) / lr[bind]:6.1%})" if rb else ""
        print(f"   {algo:8s} R={R:5d} d={d:5d} {dt:8s} per step: {cnt['normal']:.0f} normals, "
              f"{cnt['uniform']:.0f} uniforms, {cnt['bytes']:.0f} B, {cnt['flops']:.0f} flops; "
              f"binding {bind} limit {lr[bind]:.4g}/s; reached {a:.4g}/s = {a / lr[bind]:6.1%}"
              f"{fb}")  # fmt: skip
        if algo == "asyncbc" and rb:  # is issue 9's 10x within this limit at all?
            tw, tm = 10 * rate(rb, False), 10 * rate(rb, True)
            print(f"   {'':8s} 10x before = {tw:.4g}/s whole, {tm:.4g}/s marginal: "
                  f"{tw / lr[bind]:.0%} and {tm / lr[bind]:.0%} of this limit")  # fmt: skip
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
