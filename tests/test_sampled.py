"""Large-tensor audits: the sample size, the streams, and the same verdicts as the small
audits — a NaN on a fraction of coordinates, a different rule, a user's implementation."""

import math
from fractions import Fraction

import numpy as np
import pytest

import verify.auditing.sampled as sampled
from verify.golden.arith import as_fraction


def test_sample_size_meets_the_detection_probability():
    # 1 − (1 − f)^k ≥ p: k = ⌈ln(1 − p)/ln(1 − f)⌉; p = 0.95, f = 0.01 → ⌈298.07⌉ = 299
    assert sampled.sample_size(0.95, 0.01) == 299
    k = sampled.sample_size(0.99, 0.001)
    assert 1 - (1 - 0.001) ** k >= 0.99 > 1 - (1 - 0.001) ** (k - 1)


def test_gradient_streams_are_regenerated_identically():
    scales = sampled.gradient_scales(3, 1000)
    assert np.array_equal(sampled.gradients_at(3, 7, scales), sampled.gradients_at(3, 7, scales))
    assert not np.array_equal(sampled.gradients_at(3, 7, scales),
                              sampled.gradients_at(3, 8, scales))
    assert 1e-3 <= scales.min() and scales.max() <= 10


def test_pieces_cross_the_multi_tensor_chunk_sizes():
    sizes = sampled.pieces(3_000_000)
    assert sum(sizes) == 3_000_000 and 2**16 + 3 in sizes and 2**20 + 5 in sizes
    assert sampled.pieces(1000) == [1000]


def test_a_correct_user_implementation_is_consistent(tmp_path):
    r = sampled.audit_tensor("tests.mutants.adam_family:adam_torch_style", size=70_000, steps=12,
                             workers=1, npz=tmp_path / "a.npz")
    assert r.verdict == "consistent" and r.first_exit is None and r.outside_coordinates == 0
    assert r.pieces == (70_000 - 2**16 - 3, 2**16 + 3)  # a tensor past the 2¹⁶ boundary
    assert r.certified_digits >= 40
    data = np.load(tmp_path / "a.npz")
    n = r.sampled + r.extremes
    assert data["implementation"].shape == (13, n) and data["golden"].shape == (13, n)
    # golden values are decimal strings, not binary floats; at t = 0 they are the exact
    # decimal expansions of the float32 starting values the implementation recorded
    assert data["golden"].dtype.kind == "U"
    assert all(as_fraction(text) == Fraction(float(x))
               for text, x in zip(data["golden"][0], data["implementation"][0], strict=True))


def test_nan_on_two_percent_of_coordinates_is_discrepant():
    """The old large audit judged NaN as inside (v < lo is false for NaN)."""
    r = sampled.audit_tensor("tests.fixtures.user_optimizers:adam_nan_tail", size=5000, steps=6,
                             workers=1)
    assert r.verdict == "discrepant"
    assert r.outside_coordinates == 100  # the last 2 % of 5,000
    coord, e = r.first_exit
    assert coord >= 4900 and e.t == 3 and math.isnan(e.tested)


def test_a_bug_from_index_65536_on_is_caught():
    r = sampled.audit_tensor("tests.fixtures.user_optimizers:adam_wrong_past_65536", size=70_000,
                             steps=4, workers=1)
    assert r.verdict == "discrepant" and r.outside_coordinates == 70_000 - 65_536
    assert r.first_exit[0] == 65_536


def test_a_different_rule_is_caught_and_named():
    pytest.importorskip("mlx")
    r = sampled.audit_tensor("mlx-default", size=3000, steps=10, workers=1)
    # MLX's default Adam has no bias correction: its first step is (1 − β1)/√(1 − β2) ≈ 3.16
    # times Adam's ±α step, on every coordinate
    assert r.verdict == "discrepant" and r.outside_coordinates == 3000
    assert r.first_exit[1].t == 1 and r.computes == "adam-nobias"
