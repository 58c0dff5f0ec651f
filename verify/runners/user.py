"""A user's own optimizer, ``MODULE:CALLABLE``, driven on the problem's float32 gradients.

Protocol (documented in the README): ``CALLABLE(params, grad, state, t, hyper) -> (params,
state)`` where ``params`` and ``grad`` are float32 NumPy arrays, ``state`` is a dict the
function owns (empty at t = 1), ``t`` counts from 1 and ``hyper`` maps names ("lr", "beta1",
…) to Python floats. State entries named m, v, v_max or buf are recorded and audited; other
entries of the parameters' shape are reported as unmapped (never silently skipped).

A misbehaving implementation is a finding, not a crash: it raises, returns the wrong shape or
type, or runs past the per-step time limit → ``ImplementationError`` ("not audited: …").
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import ImplementationError, InputError, StepTimeout
from ..golden.arith import Float32Arith, float32_text
from ..golden.engine import gradient_at
from ..golden.run import optimizer_header, problem_header, status_of
from ..golden.spec import RunSpec
from ..golden.trace import Step, Trace

SPEC_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
AUDITED_STATE = ("m", "v", "v_max", "buf")
STEP_SECONDS = 5.0  # per-step time limit (``run_user(..., timeout=)``; 0 turns it off)


def load_callable(target: str) -> Callable[..., Any]:
    """Import ``MODULE:CALLABLE`` (code the user asked to run, not data from a file), looking in
    the current directory first, as ``python -m`` would."""
    if not SPEC_RE.match(target):
        raise InputError(f"--impl {target!r}: expected MODULE:CALLABLE")
    module_name, attr = target.split(":")
    here = os.getcwd()
    if sys.path[:1] not in ([here], [""]):
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"--impl {target!r}: cannot import {module_name}: {exc}") from None
    except Exception as exc:  # the user's module itself fails: a syntax error, a raise at import
        line = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        raise InputError(f"--impl {target!r}: importing {module_name} failed: "
                         f"{type(exc).__name__}: {line}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InputError(f"--impl {target!r}: {attr} is not a callable in {module_name}")
    return fn


class _Timeout(BaseException):
    """Raised inside the user's code when a step runs past its limit (BaseException, so that
    the user's own ``except Exception`` cannot swallow it)."""


@contextmanager
def _time_limit(seconds: float):
    """SIGALRM-based limit; only the main thread can receive signals, elsewhere no limit."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _call(fn, name: str, t: int, args: tuple, timeout: float):
    try:
        with _time_limit(timeout):
            return fn(*args)
    except _Timeout:
        raise StepTimeout(f"{name} did not return within {timeout:g} s at step {t}") from None
    except Exception as exc:  # the user's code failing is a finding, reported in one line
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise ImplementationError(f"{name} raised {type(exc).__name__} at step {t}: {text}"
                                  ) from None


def _checked(out: Any, name: str, t: int, shape: tuple[int, ...]) -> tuple[np.ndarray, dict]:
    """The step's (params, state), or the ImplementationError saying what was wrong."""
    if not isinstance(out, tuple) or len(out) != 2:
        raise ImplementationError(f"step {t} returned {type(out).__name__}, expected a "
                                  "(params, state) tuple")
    params, state = out
    if not isinstance(params, np.ndarray):
        raise ImplementationError(f"step {t} returned params as {type(params).__name__}, "
                                  "expected a float32 NumPy array")
    if params.shape != shape:
        raise ImplementationError(f"step {t} returned shape {params.shape}, expected {shape}")
    if params.dtype != np.float32:
        raise ImplementationError(f"step {t} returned {params.dtype} params, expected float32 "
                                  "(the audit judges float32 arithmetic)")
    if not isinstance(state, dict):
        raise ImplementationError(f"step {t} returned state as {type(state).__name__}, "
                                  "expected a dict")
    return params, state


def run_user(spec: RunSpec, target: str | Callable[..., Any], timeout: float = STEP_SECONDS
             ) -> Trace:
    fn = load_callable(target) if isinstance(target, str) else target
    name = target if isinstance(target, str) else getattr(fn, "__qualname__", "user")
    ar = Float32Arith()
    floats = {k: float(v) for k, v in spec.full_hyper().items()}
    grad_fn = gradient_at(spec.problem, ar)
    unmapped: set[str] = set()
    private: set[str] = set()
    notes: set[str] = set()
    with np.errstate(all="ignore"):
        params = np.array([ar.num(v) for v in spec.problem.init], dtype=np.float32)
        state: dict[str, Any] = {}
        steps = [Step(0, _texts(params))]
        for t in range(1, spec.steps + 1):
            grad = np.array(grad_fn(list(params), t), dtype=np.float32)
            given_p, given_g = params.copy(), grad.copy()
            out = _call(fn, name, t, (given_p, given_g, state, t, dict(floats)), timeout)
            new, state = _checked(out, name, t, grad.shape)
            if not np.array_equal(given_g, grad, equal_nan=True):
                notes.add("it writes into its grad argument (the audit passes copies)")
            recorded = {}
            for k, value in state.items():
                arr = value if isinstance(value, np.ndarray) else None
                if k in AUDITED_STATE and arr is not None and arr.shape == grad.shape:
                    recorded[k] = _texts(arr.astype(np.float32))
                elif arr is not None and arr.shape == grad.shape and k not in AUDITED_STATE:
                    (private if str(k).startswith("_") else unmapped).add(str(k))
            params = new
            steps.append(Step(t, _texts(params), _texts(grad), recorded))
    steps_t = tuple(steps)
    arithmetic = {"kind": "float32", "implementation": name, "dtype": "float32",
                  "unmapped_state": sorted(unmapped), "private_state": sorted(private),
                  "notes": sorted(notes)}
    return Trace(problem_header(spec.problem), optimizer_header(spec), arithmetic, steps_t,
                 status_of(steps_t, spec.steps))


def _texts(values) -> tuple[str, ...]:
    return tuple(float32_text(v) for v in values)
