"""Reference runs of the synchronous/buffered methods (QAFeL, FedBuff, FedPAQ, EF/SAEF, momentum
SGD) for ``test_sync_golden.py``: the numbers these exact calls produced before issue 9's in-place,
blocked loops (generated at commit d5e785c with ``python tests/algorithms/golden_sync.py``, stored
in ``data/golden_sync.json``). The shapes cover both paths of :class:`boundcheck.rng.
ReplicaGenerator` (pooled draws of ``m <= 4096`` numbers per replica, direct draws above), float64
and float32, quantized and identity messages, staleness weights and server momentum.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from boundcheck import rng
from boundcheck.problems.base import Problem

DATA = Path(__file__).parent / "data" / "golden_sync.json"


class GoldenQuad(Problem):
    """``f_i(x) = 1/2 sum_j a_ij (x_j - b_ij)^2`` with Gaussian oracle noise of std ``sigma`` (kept
    here, not taken from a shipped family, so that the golden numbers depend on the algorithms only)."""

    def __init__(self, n: int, d: int, sigma: float, dtype: torch.dtype, seed: int = 0) -> None:
        super().__init__(n=n, d=d, dtype=dtype, device="cpu")
        g = torch.Generator().manual_seed(seed)
        self.a = (0.5 + torch.rand(n, d, generator=g, dtype=torch.float64)).to(dtype)
        self.b = torch.randn(n, d, generator=g, dtype=torch.float64).to(dtype)
        self.sigma = sigma

    def _ab(self, clients):
        if clients is None:
            return self.a, self.b
        return self.a[clients], self.b[clients]

    def f_i(self, x, clients=None):
        a, b = self._ab(clients)
        return 0.5 * (a * (x - b) ** 2).sum(-1)

    def grad_i(self, x, clients=None):
        a, b = self._ab(clients)
        return a * (x - b)

    def f(self, x):
        return self.f_i(x.unsqueeze(-2)).mean(-1)

    def grad(self, x):
        return self.grad_i(x.unsqueeze(-2)).mean(-2)

    def sample(self, R, clients, generator):
        m = self.n if clients is None else clients.shape[-1]
        return rng.normal(generator, (R, m, self.d), dtype=self.dtype, device=self.device)

    def stochastic_grad_i(self, x, sample, clients=None):
        g = self.grad_i(x, clients)
        return g if sample is None else g + self.sigma * sample

    @property
    def x_star(self):
        return (self.a * self.b).mean(0) / self.a.mean(0)


def runs() -> dict[str, dict[str, list]]:
    """Every reference run: name -> {series name: (rows, R) values as nested lists}."""
    from boundcheck.algorithms.fedpaq import fedpaq
    from boundcheck.algorithms.qafel import fedbuff, qafel
    from boundcheck.algorithms.saef import ef_sgd, momentum_sgd, saef_sgd
    from boundcheck.compressors import QSGDBits, ScaledSign, TopK

    f64, f32 = torch.float64, torch.float32
    out = {}

    def keep(name, tr):
        out[name] = {
            k: v.double().tolist()
            for k, v in sorted(tr.series.items())
            if torch.is_tensor(v) and v.dim() == 2
        }
        out[name]["diverged_at"] = tr.diverged_at.tolist()

    for dt, tag in ((f64, "f64"), (f32, "f32")):
        big = GoldenQuad(6, 700, 0.3, dt)  # K d = 4900 > 4096: direct draws
        small = GoldenQuad(6, 5, 0.3, dt, seed=1)  # pooled draws
        q = dict(R=3, seed=3, first_replica=2, dtype=dt)
        keep(f"qafel_big_{tag}", qafel(big, T=4, K=7, P=2, eta_l=0.05, eta_g=1.0, concurrency=5,
             client_compressor=QSGDBits(4), server_compressor=QSGDBits(3), **q))  # fmt: skip
        keep(f"qafel_small_{tag}", qafel(small, T=6, K=3, P=3, eta_l=0.1, eta_g=0.8,
             concurrency=4, client_compressor=QSGDBits(2), server_compressor=TopK(2),
             staleness_weight=True, beta=0.5, **q))  # fmt: skip
        keep(f"fedbuff_small_{tag}", fedbuff(small, T=6, K=2, P=2, eta_l=0.1, eta_g=1.0,
             concurrency=3, **q))  # fmt: skip
        keep(f"fedpaq_virtual_{tag}", fedpaq(small, K=3, tau=3, r=3, eta=0.1,
             quantizer=QSGDBits(2), virtual=True, **q))  # fmt: skip
        keep(f"fedpaq_big_{tag}", fedpaq(big, K=3, tau=2, r=6, eta=0.1, quantizer=QSGDBits(4),
             virtual=False, **q))  # fmt: skip
        keep(f"fedavg_small_{tag}", fedpaq(small, K=3, tau=2, r=2, eta=0.1, virtual=False, **q))
        saef_p = GoldenQuad(2, 5, 0.3, dt, seed=2)
        keep(f"saef_{tag}", saef_sgd(saef_p, T=6, K=3, eta=0.1, mu=0.9, p=2,
             client_compressor=ScaledSign(), server_compressor=ScaledSign(), **q))  # fmt: skip
        keep(f"saef_big_{tag}", saef_sgd(GoldenQuad(1, 700, 0.3, dt, seed=4), T=3, K=7,
             eta=0.1, mu=0.0, p=None, client_compressor=QSGDBits(4), **q))  # fmt: skip
        keep(f"ef_{tag}", ef_sgd(saef_p, T=6, K=3, eta=0.1, mu=0.5, p=3,
             client_compressor=TopK(2), server_compressor=None, **q))  # fmt: skip
        keep(f"momentum_{tag}", momentum_sgd(saef_p, T=5, K=3, eta=0.1, mu=0.9, **q))
    return out


if __name__ == "__main__":
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps(runs(), sort_keys=True) + "\n")
    print(f"wrote {DATA}")
