"""Fuzzing the last input surface: users' optimizers that misbehave. Hypothesis builds step
functions that go wrong at a drawn step in a drawn way; the audit must end in a verdict (not
audited with the reason, or discrepant) — never an exception, never "consistent"."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verify

from .conftest import FUZZ

WAYS = ("raise", "shape", "float64", "list", "tuple3", "state", "nan", "inf", "scale",
        "none", "string")


def misbehaving(way: str, at: int, seed: int):
    """A correct Adam that, from step ``at`` on, goes wrong in one ``way``."""
    rng = np.random.default_rng(seed)

    def step(params, grad, state, t, hyper):
        b1, b2 = np.float32(hyper["beta1"]), np.float32(hyper["beta2"])
        m = b1 * state.get("m", np.zeros_like(params)) + (np.float32(1) - b1) * grad
        v = b2 * state.get("v", np.zeros_like(params)) + (np.float32(1) - b2) * grad * grad
        m_hat = m / np.float32(1 - hyper["beta1"] ** t)
        v_hat = v / np.float32(1 - hyper["beta2"] ** t)
        new = (params - np.float32(hyper["lr"]) * m_hat / (np.sqrt(v_hat)
                                                           + np.float32(hyper["eps"])))
        new = new.astype(np.float32)
        out = {"m": m, "v": v}
        if t < at:
            return new, out
        bad = {"raise": lambda: (_ for _ in ()).throw(ValueError("drawn failure")),
               "shape": lambda: (np.zeros(int(rng.integers(3, 6)), np.float32), out),
               "float64": lambda: (new.astype(np.float64), out),
               "list": lambda: (new.tolist(), out),
               "tuple3": lambda: (new, out, None),
               "state": lambda: (new, [m, v]),
               "nan": lambda: (np.full_like(new, np.nan), out),
               "inf": lambda: (np.full_like(new, np.inf), out),
               "scale": lambda: ((new * np.float32(1 + rng.uniform(0.01, 1))).astype(np.float32),
                                 out),
               "none": lambda: None,
               "string": lambda: "params"}[way]
        return bad()

    return step


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(WAYS), st.integers(1, 12), st.integers(0, 2**16))
def test_fuzz_misbehaving_optimizers(way, at, seed):
    FUZZ["user optimizer (misbehaving)"] = FUZZ.get("user optimizer (misbehaving)", 0) + 1
    r = verify.audit(misbehaving(way, at, seed), "adam", quick=True, golden=False)
    assert r.verdict in ("not audited", "discrepant"), (way, at, r.summary)
    line = r.first_line()
    assert "None ULP" not in line and "max None" not in line and "\n" not in line
    if r.verdict == "not audited":
        assert f"step {at}" in r.reason
