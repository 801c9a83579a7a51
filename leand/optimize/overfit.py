"""Overfitting guards for a sweep's best trial, from the papers' formulas.

* Deflated Sharpe Ratio — Bailey & López de Prado, "The Deflated Sharpe Ratio: Correcting for Selection Bias,
  Backtest Overfitting and Non-Normality" (J. Portfolio Management, 2014), eqs. for SR₀ and DSR.
* Probability of Backtest Overfitting by combinatorially symmetric cross-validation (CSCV) — Bailey, Borwein,
  López de Prado & Zhu, "The Probability of Backtest Overfitting" (J. Computational Finance, 2017), §2.

Sharpe ratios here are per observation (daily), not annualized, as in the papers. Both functions take their
inputs in a streaming form (per-trial Sharpe ratios; per-trial block sums), so memory stays flat in the number
of trials.
"""

from __future__ import annotations

import math
from itertools import combinations

import msgspec
import numpy as np
from scipy.stats import kurtosis, norm, skew

EULER_GAMMA = 0.5772156649015329


def sharpe(returns: np.ndarray) -> float:
    """Per-observation Sharpe ratio (mean over sample standard deviation); 0 for a flat series."""
    r = np.asarray(returns, dtype=float)
    if len(r) < 2:
        return 0.0
    sd = float(r.std(ddof=1))
    return float(r.mean()) / sd if sd > 0 else 0.0


def expected_max_sharpe(sharpe_variance: float, n_trials: int) -> float:
    """SR₀: the expected maximum Sharpe ratio of ``n_trials`` skill-less trials whose Sharpe ratios vary with
    ``sharpe_variance`` (False Strategy Theorem, via the Gumbel approximation)."""
    if n_trials < 2 or sharpe_variance <= 0:
        return 0.0
    n = float(n_trials)
    return float(math.sqrt(sharpe_variance) * ((1 - EULER_GAMMA) * norm.ppf(1 - 1 / n)
                                               + EULER_GAMMA * norm.ppf(1 - 1 / (n * math.e))))


def probabilistic_sharpe(sr: float, sr0: float, n_obs: int, skewness: float, kurt: float) -> float:
    """PSR(SR₀) = Φ((SR − SR₀)·√(T−1) / √(1 − γ₃·SR + (γ₄−1)/4·SR²)), with γ₄ the (non-excess) kurtosis."""
    if n_obs < 2:
        return float("nan")
    var = 1 - skewness * sr + (kurt - 1) / 4 * sr * sr
    if var <= 0:
        return float("nan")
    return float(norm.cdf((sr - sr0) * math.sqrt(n_obs - 1) / math.sqrt(var)))


class Deflated(msgspec.Struct, kw_only=True):
    dsr: float
    sharpe: float
    expected_max_sharpe: float
    sharpe_variance: float
    n_trials: int
    n_obs: int
    skewness: float
    kurtosis: float


def deflated_sharpe(best_returns: np.ndarray, trial_sharpes: np.ndarray | list[float]) -> Deflated:
    """The DSR of the best trial, given the per-observation Sharpe ratios of all ``N`` trials run (the
    variance across them sets how high a maximum luck alone would reach)."""
    r = np.asarray(best_returns, dtype=float)
    srs = np.asarray(trial_sharpes, dtype=float)
    srs = srs[np.isfinite(srs)]
    n = len(srs)
    var = float(srs.var(ddof=1)) if n > 1 else 0.0
    sr = sharpe(r)
    g3 = float(skew(r)) if len(r) > 2 and r.std() > 0 else 0.0
    g4 = float(kurtosis(r, fisher=False)) if len(r) > 3 and r.std() > 0 else 3.0
    sr0 = expected_max_sharpe(var, n)
    return Deflated(dsr=probabilistic_sharpe(sr, sr0, len(r), g3, g4), sharpe=sr, expected_max_sharpe=sr0,
                    sharpe_variance=var, n_trials=n, n_obs=len(r), skewness=g3, kurtosis=g4)


# --------------------------------------------------------------------------------------------------------------
# PBO by CSCV
# --------------------------------------------------------------------------------------------------------------
def block_sums(returns: np.ndarray, n_blocks: int) -> np.ndarray:
    """Split one trial's T returns into ``n_blocks`` equal contiguous blocks (the first T mod S observations
    are dropped so every block has the same length) -> array (S, 3) of (count, sum, sum of squares)."""
    r = np.asarray(returns, dtype=float)
    size = len(r) // n_blocks
    r = r[len(r) - size * n_blocks:].reshape(n_blocks, size)
    return np.stack([np.full(n_blocks, float(size)), r.sum(axis=1), (r * r).sum(axis=1)], axis=1)


def choose_blocks(n_obs: int, wanted: int = 16) -> int:
    """The number of CSCV blocks: ``wanted`` (16, as the paper suggests) or fewer, even, with >= 2 rows each."""
    s = min(wanted, n_obs // 2)
    return s - s % 2


class Pbo(msgspec.Struct, kw_only=True):
    pbo: float
    n_blocks: int
    n_combinations: int
    n_trials: int
    #: λ_c per combination (logit of the in-sample best's relative out-of-sample rank)
    logits: list[float]
    #: the in-sample best's Sharpe in and out of sample, per combination (performance degradation)
    is_sharpe: list[float]
    oos_sharpe: list[float]
    #: P[out-of-sample Sharpe of the selected trial < 0]
    prob_loss: float


def _block_sharpe(c: np.ndarray, s: np.ndarray, q: np.ndarray) -> np.ndarray:
    mean = s / c
    var = (q - c * mean * mean) / (c - 1)
    sd = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 1e-15, mean / np.where(sd > 1e-15, sd, 1.0), 0.0)


def pbo_cscv(blocks: np.ndarray, chunk: int = 1024) -> Pbo:
    """PBO from ``blocks`` (N trials, S blocks, 3) as made by :func:`block_sums`.

    For every way ``c`` of choosing S/2 blocks as the training set J (the rest J̄ is the test set): n* is the
    trial with the highest Sharpe on J; ω̄_c its rank on J̄ (1 = worst, ties averaged) over N+1; λ_c =
    ln(ω̄_c / (1 − ω̄_c)). PBO = #{λ_c ≤ 0} / #C. Ties in J keep the lowest trial number."""
    b = np.asarray(blocks, dtype=float)
    n, s, _ = b.shape
    if n < 2 or s < 2 or s % 2:
        raise ValueError(f"PBO needs >= 2 trials and an even number of blocks >= 2 (got {n} trials, {s} blocks)")
    combos = np.array([[j in c for j in range(s)] for c in combinations(range(s), s // 2)], dtype=float)
    logits: list[float] = []
    is_best: list[float] = []
    oos_best: list[float] = []
    for a in range(0, len(combos), chunk):
        m = combos[a:a + chunk]            # (C, S) membership of J
        rest = 1.0 - m
        is_sr = _block_sharpe(m @ b[:, :, 0].T, m @ b[:, :, 1].T, m @ b[:, :, 2].T)        # (C, N)
        oos_sr = _block_sharpe(rest @ b[:, :, 0].T, rest @ b[:, :, 1].T, rest @ b[:, :, 2].T)
        star = np.argmax(is_sr, axis=1)
        rows = np.arange(len(m))
        v = oos_sr[rows, star][:, None]
        below = (oos_sr < v).sum(axis=1)
        equal = (oos_sr == v).sum(axis=1)
        rank = below + (equal + 1) / 2.0
        w = rank / (n + 1)
        logits.extend(np.log(w / (1 - w)).tolist())
        is_best.extend(is_sr[rows, star].tolist())
        oos_best.extend(v[:, 0].tolist())
    lam = np.array(logits)
    return Pbo(pbo=float((lam <= 0).mean()), n_blocks=s, n_combinations=len(combos), n_trials=n,
               logits=logits, is_sharpe=is_best, oos_sharpe=oos_best,
               prob_loss=float((np.array(oos_best) < 0).mean()))
