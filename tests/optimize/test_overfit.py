"""Deflated Sharpe Ratio and PBO (CSCV) against values worked out by hand and the DSR paper's own example."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from leand.optimize.overfit import (
    block_sums,
    choose_blocks,
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe,
    sharpe,
)


def test_expected_max_sharpe_and_dsr_match_the_papers_example() -> None:
    # Bailey & López de Prado (2014), numerical example: N = 100 trials, annualized V[SR] = 0.5 over 250 days,
    # best annualized SR 2.5, T = 1250 daily returns, skewness -3, kurtosis 10 -> SR0 ≈ 0.1132, DSR ≈ 0.9004.
    sr0 = expected_max_sharpe(0.5 / 250, 100)
    # by hand: sqrt(0.002) * ((1 - 0.5772) * Φ⁻¹(0.99) + 0.5772 * Φ⁻¹(1 - 1/(100e)))
    #        = 0.044721 * (0.422784 * 2.326348 + 0.577216 * 2.678814) = 0.044721 * 2.530611 = 0.113172
    assert sr0 == pytest.approx(0.113172, abs=2e-6)
    dsr = probabilistic_sharpe(2.5 / math.sqrt(250), sr0, 1250, -3.0, 10.0)
    # z = (0.158114 - 0.113172) * sqrt(1249) / sqrt(1 + 3 * 0.158114 + 9/4 * 0.025) = 1.588290 / 1.237169 = 1.28381
    assert dsr == pytest.approx(0.9004, abs=1e-4)


def test_psr_by_hand_and_single_trial() -> None:
    # SR 0.1 over 101 normal returns against 0: Φ(0.1 * 10 / sqrt(1 + 0.5 * 0.01)) = Φ(0.997509) = 0.840741
    assert probabilistic_sharpe(0.1, 0.0, 101, 0.0, 3.0) == pytest.approx(0.840741, abs=1e-6)
    assert expected_max_sharpe(0.01, 1) == 0.0  # one trial: nothing to deflate


def test_deflated_sharpe_from_series() -> None:
    r = np.array([0.01, -0.005, 0.02, 0.0, 0.015, -0.01, 0.005, 0.012])
    d = deflated_sharpe(r, [0.1, 0.3, 0.2, sharpe(r)])
    mean, sd = r.mean(), r.std(ddof=1)
    assert d.sharpe == pytest.approx(mean / sd)
    assert d.n_trials == 4 and d.n_obs == 8
    v = np.var([0.1, 0.3, 0.2, mean / sd], ddof=1)
    assert d.sharpe_variance == pytest.approx(v)
    m = r - mean
    g3 = (m ** 3).mean() / (m ** 2).mean() ** 1.5
    g4 = (m ** 4).mean() / (m ** 2).mean() ** 2
    assert d.skewness == pytest.approx(g3) and d.kurtosis == pytest.approx(g4)
    assert d.dsr == pytest.approx(probabilistic_sharpe(mean / sd, expected_max_sharpe(v, 4), 8, g3, g4))


def test_pbo_two_blocks_by_hand() -> None:
    # Two trials, four days, S = 2 blocks (days 0-1 = A, days 2-3 = B).
    # trial 0: A = [.01, .03] (SR 1.414), B = [-.01, .01] (SR 0)
    # trial 1: A = [.00, .02] (SR 0.707), B = [.01, .03] (SR 1.414)
    # J = A: trial 0 is best in sample, worst of 2 out of sample: ω = 1/3, λ = ln(1/2)
    # J = B: trial 1 is best in sample, worst of 2 out of sample: ω = 1/3, λ = ln(1/2)   -> PBO = 1
    m = np.array([[0.01, 0.03, -0.01, 0.01], [0.00, 0.02, 0.01, 0.03]])
    p = pbo_cscv(np.stack([block_sums(x, 2) for x in m]))
    assert p.n_combinations == 2 and p.pbo == 1.0
    assert p.logits == pytest.approx([math.log(0.5), math.log(0.5)])
    assert p.is_sharpe == pytest.approx([math.sqrt(2), math.sqrt(2)])
    assert p.oos_sharpe == pytest.approx([0.0, 1 / math.sqrt(2)])
    # a trial that wins in both halves: it is also best out of sample, ω = 2/3, λ = ln 2 -> PBO = 0
    m2 = np.array([[0.01, 0.03, 0.01, 0.03], [0.00, 0.02, -0.01, 0.01]])
    p2 = pbo_cscv(np.stack([block_sums(x, 2) for x in m2]))
    assert p2.pbo == 0.0 and p2.logits == pytest.approx([math.log(2), math.log(2)])
    assert p2.prob_loss == 0.0


def _brute_pbo(m: np.ndarray, s: int) -> float:
    """CSCV straight from the paper: rebuild each training and test matrix from the rows."""
    n, t = m.shape
    size = t // s
    m = m[:, t - size * s:]
    blocks = [m[:, i * size:(i + 1) * size] for i in range(s)]
    lam = []
    for c in combinations(range(s), s // 2):
        train = np.concatenate([blocks[i] for i in c], axis=1)
        test = np.concatenate([blocks[i] for i in range(s) if i not in c], axis=1)
        is_sr = [sharpe(x) for x in train]
        oos_sr = np.array([sharpe(x) for x in test])
        star = int(np.argmax(is_sr))
        rank = (oos_sr < oos_sr[star]).sum() + ((oos_sr == oos_sr[star]).sum() + 1) / 2
        w = rank / (n + 1)
        lam.append(math.log(w / (1 - w)))
    return float((np.array(lam) <= 0).mean())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pbo_matches_the_direct_construction(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0005, 0.01, size=(7, 203))
    s = choose_blocks(203, 8)
    assert s == 8
    p = pbo_cscv(np.stack([block_sums(x, s) for x in m]))
    assert p.n_combinations == math.comb(8, 4)
    assert p.pbo == pytest.approx(_brute_pbo(m, s))


def test_pbo_rejects_too_few_trials() -> None:
    with pytest.raises(ValueError, match="2 trials"):
        pbo_cscv(np.stack([block_sums(np.ones(8), 2)]))
