"""Empirical comparison claims of the papers: claims about an experiment, not upper bounds.

A :class:`Claim` states, for a comparison of two algorithm configurations run to a target, the range
the paper reports for each measured ratio (candidate / baseline). The engine measures the ratios on
a synthetic stand-in (:mod:`boundcheck.check.comparison`) and calls each one ``reproduced`` (its
confidence interval lies inside the claimed range), ``not reproduced`` (it lies outside) or
``inconclusive``; never "violated": the paper's experiment (CelebA, a CNN) is not rerun, a stand-in
problem is, and the report says so.

The ranges are the papers' numbers as printed; a spec may plant other ranges through
``[check] claimed = { uploads = [lo, hi], ... }`` (for calibration and tests), never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from boundcheck.errors import UnknownIdError

__all__ = ["CLAIMS", "Claim", "Quantity", "get", "ids"]


@dataclass(frozen=True)
class Quantity:
    """One measured ratio candidate / baseline and the range the paper claims for it."""

    key: str  # "uploads" | "mb_up" | "mb_down"
    label: str
    claimed: tuple[float, float]  # the claimed range of the ratio candidate / baseline
    quote: str  # the paper's words the range comes from
    reading: str = ""  # how the words were turned into the range, where that needed a choice


@dataclass(frozen=True)
class Claim:
    """A comparison claim: the paper, where it says it, what it compares, the claimed ranges."""

    id: str
    paper: str
    source: str
    statement: str
    baseline: str  # label of the baseline configuration
    candidate: str  # label of the candidate configuration
    quantities: tuple[Quantity, ...]
    stand_in: str  # what the paper ran, and that a synthetic stand-in replaces it
    readings: tuple[str, ...] = field(default_factory=tuple)


_FIG3_QUOTE = (
    "Figure 3 illustrates how QAFeL's communication costs are lower than those of FedBuff: we "
    "decrease the MB uploaded by 5.2 - 8 times and similarly decrease the MB broadcasted. The "
    "number of client updates is only 1 - 1.5 times higher, but using 4-bit qsgd quantization in "
    "both client and server accounts for approximately a 8 times reduction in message size."
)

CLAIMS: dict[str, Claim] = {
    c.id: c
    for c in (
        Claim(
            id="qafel.fig3_bits",
            paper="QAFeL",
            source="QAFeL, Section 4 'Results' and Figure 3 (setup: Appendix D)",
            statement=_FIG3_QUOTE,
            baseline="FedBuff (full precision, 32 bits per coordinate both ways)",
            candidate="QAFeL, 4-bit qsgd at client and server (Example B.1)",
            quantities=(
                Quantity(
                    "uploads",
                    "client uploads to the target",
                    (1.0, 1.5),
                    "The number of client updates is only 1 - 1.5 times higher",
                    "read literally as the range [1, 1.5]: a ratio below 1 (QAFeL needing fewer "
                    "uploads than FedBuff) lies outside it",
                ),
                Quantity(
                    "mb_up",
                    "MB uploaded to the target",
                    (1.0 / 8.0, 1.0 / 5.2),
                    "we decrease the MB uploaded by 5.2 - 8 times",
                    "a decrease by 5.2 - 8 times is a ratio QAFeL / FedBuff in [1/8, 1/5.2]",
                ),
                Quantity(
                    "mb_down",
                    "MB broadcast to the target",
                    (1.0 / 8.0, 1.0 / 5.2),
                    "and similarly decrease the MB broadcasted",
                    "'similarly' is read as the same range as the MB uploaded, [1/8, 1/5.2]",
                ),
            ),
            stand_in=(
                "The paper measures communication to 90% validation accuracy on CelebA (LEAF) "
                "with a four-layer CNN (Section 4, Appendix D); boundcheck runs a synthetic "
                "stand-in (the spec's problem family, target on f(x^t) - f* or ||grad f(x^t)||^2 "
                "at the server model), so a verdict here is about the stand-in, not about the "
                "paper's experiment."
            ),
            readings=(
                "Ratios are of means over replicas, as Figure 3 plots means of the runs "
                "(the paper: 'We perform each experiment three times and report the mean').",
                "Client uploads to the target = K times the first server step t with the target "
                "met at x^t (the uploads the server has applied); broadcasts = t.",
                "FedBuff broadcasts x^{t+1} in full precision (32 d bits); QAFeL broadcasts "
                "q^t = Q_s(x^{t+1} - hat x^t) (Algorithm 1 line 13).",
                "Figure 3's caption ('MB broadcasted are simply the MB uploaded divided by the "
                "buffer size') holds exactly when Q_c and Q_s cost the same bits: checked per run.",
                "App. D's Figure 3 setting: staleness weights 1/sqrt(1 + tau), server momentum "
                "beta = 0.3, buffer K = 10, half-normal durations, concurrency via the arrival rate.",
            ),
        ),
    )
}


def ids() -> list[str]:
    """The claim ids a spec's ``claim = ...`` accepts."""
    return list(CLAIMS)


def get(claim_id: str) -> Claim:
    """The claim ``claim_id``; :class:`UnknownIdError` naming the known ids otherwise."""
    try:
        return CLAIMS[claim_id]
    except (KeyError, TypeError):
        raise UnknownIdError(f"unknown claim {claim_id!r}; known: {', '.join(CLAIMS)}") from None
