"""Large-tensor audits by sampling: the sample size, the shadow, detection of a wrong rule."""

import math
from fractions import Fraction

import numpy as np
import pytest

import verify.auditing.sampled as sampled
from verify.arith import as_fraction
from verify.runners.tensor import stepper


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


def test_reference_implementation_is_consistent(tmp_path):
    r = sampled.audit_tensor("numpy", size=3000, steps=30, samples=4, workers=1,
                             npz=tmp_path / "a.npz")
    assert r.verdict == "consistent" and r.first_outside is None and r.beyond_ulps == 0
    # float64 is 2²⁹ times finer than float32: the shadow sits far inside one float32 ulp of
    # the certified golden, which is what lets it stand in for the golden on every coordinate
    assert r.shadow_error_ulps < 1e-3
    assert r.max_ulps_shadow < 32 and r.certified_digits >= 40
    data = np.load(tmp_path / "a.npz")
    n = r.sampled + r.extremes
    assert data["implementation"].shape == (31, n) and data["golden"].shape == (31, n)
    # golden values are decimal strings, not binary floats; at t = 0 they are the exact
    # decimal expansions of the float32 starting values the implementation recorded
    assert data["golden"].dtype.kind == "U"
    assert all(as_fraction(text) == Fraction(float(x))
               for text, x in zip(data["golden"][0], data["implementation"][0], strict=True))


def test_a_different_rule_is_caught(monkeypatch):
    # the "implementation" forgets the bias correction; the audit claims Adam
    monkeypatch.setattr(sampled, "stepper",
                        lambda impl, rule, hyper, init: stepper("numpy", "adam-nobias", hyper,
                                                                init))
    r = sampled.audit_tensor("numpy", size=2000, steps=10, samples=4, workers=1)
    assert r.verdict == "discrepant" and r.first_outside[0] == 1
    # first step: m/√v without correction is (1 − β1)/√(1 − β2) ≈ 3.16 times Adam's ±α step
    assert r.beyond_ulps > 1000 and math.isfinite(r.max_ulps_shadow)
    assert r.closest[0] == "adam-nobias" and r.closest[2] == 0  # it is that rule, exactly


def test_torch_is_the_claimed_rule_up_to_evaluation_order():
    pytest.importorskip("torch")
    r = sampled.audit_tensor("torch-foreach", size=20_000, steps=40, samples=4, workers=1)
    # torch.optim.Adam evaluates Algorithm 1 in another order, with double-precision scalars
    assert r.verdict in ("consistent", "consistent up to evaluation order")
    assert r.closest[0] == "adam" and r.closest[1] == "float64"
