"""What a judged run accumulates, row by row: the first value outside the envelope, the
farthest distances (in operand ulps), the steps the format cannot judge or where θ cannot
move, and the tallies of once-rounded results; fed one step at a time (``check``) or a block
of steps at once (``segment``), with the same result."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bounds import BoundArith, Bounded


@dataclass(frozen=True)
class Exit:
    """The first value outside the envelope: where, what it was, what was allowed."""

    t: int
    quantity: str
    index: int
    tested: float
    low: float
    high: float
    ulps_outside: float  # distance beyond the bound, in operand ulps

    def text(self) -> str:
        if not np.isfinite(self.tested):
            return (f"step {self.t}, {self.quantity}[{self.index}] = {self.tested:g} where the "
                    f"rule gives {0.5 * (self.low + self.high):.9g}")
        return (f"step {self.t}, {self.quantity}[{self.index}] = {self.tested:.9g}, outside "
                f"[{self.low:.9g}, {self.high:.9g}] by {_ulps_text(self.ulps_outside)}")


def _ulps_text(u: float) -> str:
    return f"{u:.3g} ulp" if u < 1e6 else f"{u:.2e} ulp"


@dataclass(frozen=True)
class _BlockQuantity:
    """One checked quantity over a block's steps ([step, row, coordinate]), as judged."""

    q: str
    v: np.ndarray  # the exact local value, the envelope's centre
    e: np.ndarray  # the envelope's half-width
    g: np.ndarray  # the tested value
    start: np.ndarray  # the value before the step, for operand ulps
    dist: np.ndarray
    beyond: np.ndarray  # distance beyond the bound (inf where NaN)
    judged: np.ndarray
    odd: np.ndarray  # in the mask but unjudgeable: the bound is not finite

    def upto(self, end: int) -> _BlockQuantity:
        """The same quantity over the block's first ``end`` steps only."""
        return _BlockQuantity(self.q, self.v[:end], self.e[:end], self.g[:end], self.start[:end],
                              self.dist[:end], self.beyond[:end], self.judged[:end],
                              self.odd[:end])


class Tracker:
    """Accumulates, per row, the first exit and the worst distances over steps."""

    def __init__(self, rows: int, ar: BoundArith, shape: tuple[int, ...] | None = None,
                 measure: bool = True):
        self.ar = ar
        self.measure = measure  # distances, frozen steps, tallies; off: only exits matter
        self.far_coord = None if shape is None else np.zeros(shape)  # per coordinate, all steps
        self.out_coord = None if shape is None else np.zeros(shape, dtype=bool)
        self.per_step: list[tuple[int, float, float, int]] = []  # t, max, mean far; outside
        self.first: list[Exit | None] = [None] * rows
        self.worst = np.zeros(rows)
        self.far = np.zeros(rows)
        self.unjudged: list[list[tuple[int, str]]] = [[] for _ in range(rows)]
        self.frozen: list[list[int]] = [[] for _ in range(rows)]
        self.undefined: list[int | None] = [None] * rows
        self.exits: list[dict[str, Exit]] = [{} for _ in range(rows)]
        self.finite_nan = np.zeros(rows, dtype=bool)
        self.exact: list[dict[str, list[int]]] = [{} for _ in range(rows)]  # q → [seen, equal]
        self.narrow = ar.fmt.name != "float32"
        self.done = np.zeros(rows, dtype=bool)  # rows past the rule's own 0/0

    def check(self, t: int, q: str, ref: Bounded, got: np.ndarray, mask: np.ndarray,
              before: np.ndarray) -> None:
        """Distances are counted in *operand ulps*: ulps of the larger of the value before
        and after the step, since a step's rounding errors are absolute (a value that cancels
        towards 0 would otherwise show thousands of ulps for arithmetic as good as it gets)."""
        if ref.v.shape != got.shape or ref.e.shape != got.shape:
            ref = Bounded(np.broadcast_to(ref.v, got.shape), np.broadcast_to(ref.e, got.shape),
                          ref.ctx)
        dist = np.abs(got - ref.v)
        if (not self.measure and (dist <= ref.e).all() and np.isfinite(ref.e).all()
                and not self.done.any()):
            return  # inside everywhere, every bound finite (NaN compares False): nothing to record
        ulp = ulp_at(np.maximum(np.abs(ref.v), np.abs(before)), self.ar.fmt)
        dist[np.isinf(ref.v) & (got == ref.v)] = 0.0
        beyond = np.where(np.isnan(dist), np.inf, dist - ref.e)
        judged = mask & ~self.done[:, None] & np.isfinite(ref.e)
        outside = (beyond > 0) & judged
        far = np.where(judged, np.where(np.isnan(dist), np.inf, dist) / ulp, 0.0)
        self.far = np.maximum(self.far, far.max(axis=1))
        if self.far_coord is not None:
            np.maximum(self.far_coord, far, out=self.far_coord)
            self.out_coord |= outside
            if q == "params":
                self.per_step.append((t, float(far[0].max()), float(far[0].mean()),
                                      int(np.count_nonzero(outside[0]))))
        if self.narrow and self.measure:  # once-rounded exact results: wider than it stores?
            once = ref.v.astype(np.float32).astype(self.ar.fmt.dtype).astype(np.float64)
            hit = (once == got) & judged
            for r in range(got.shape[0]):
                tally = self.exact[r].setdefault(q, [0, 0])
                tally[0] += int(np.count_nonzero(judged[r]))
                tally[1] += int(np.count_nonzero(hit[r]))
        if outside.any():
            excess = np.where(outside, beyond / ulp, 0.0)
            self.worst = np.maximum(self.worst, excess.max(axis=1))
            for r in np.flatnonzero(outside.any(axis=1)):
                if q not in self.exits[r]:
                    i = int(np.argmax(outside[r]))
                    self.exits[r][q] = Exit(t, q, i, float(got[r, i]),
                                            float(ref.v[r, i] - ref.e[r, i]),
                                            float(ref.v[r, i] + ref.e[r, i]), float(excess[r, i]))
                    if self.first[r] is None:
                        self.first[r] = self.exits[r][q]
        odd = mask & ~self.done[:, None] & ~np.isfinite(ref.e)
        if odd.any():
            for r in np.flatnonzero(odd.any(axis=1)):
                if np.isnan(ref.v[r][odd[r]]).any():
                    self.undefined[r] = t
                    self.done[r] = True
                    self.finite_nan[r] = bool(np.isfinite(got[r][np.isnan(ref.v[r]) & odd[r]]).any())
                elif not self.unjudged[r] or self.unjudged[r][-1][0] != t:
                    self.unjudged[r].append((t, f"{q} may overflow the format"))

    def segment(self, checks: list[tuple[str, Bounded, np.ndarray, np.ndarray, np.ndarray]],
                delta: Bounded, before: np.ndarray, t0: int, i0: int,
                owner: list[int] | None) -> tuple[int, bool]:
        """Record steps i0… of a block ([step, row, coordinate] arrays; step i is t0 + i) at
        once, exactly as ``frozen_check`` and ``check`` step by step would, up to the first step
        at which a row becomes undefined (its bookkeeping changes what later steps record:
        left to ``check``) or through the step at which every owner has a row outside (the
        early stop). Returns the index after the last step recorded, and whether it stopped."""
        n, rows = before.shape[0], before.shape[1]
        k = n - i0
        seen, event = self._block_quantities(checks, i0, k)
        end = int(np.argmax(event)) if event.any() else k
        stop = False
        if owner is not None and end:
            end, stop = self._early_stop(seen, end, rows, owner)
        if not end:
            return i0, stop
        found: dict[int, list[tuple[int, int, Exit]]] = {}
        unjudged: dict[int, dict[int, str]] = {}  # row → step → the first quantity there
        for qi, quantity in enumerate(seen):
            self._record_block(qi, quantity.upto(end), rows, t0 + i0, found, unjudged)
        self._keep_block_exits(found)
        self._keep_block_unjudged(unjudged, t0 + i0)
        if self.measure:
            self._frozen_block(before[i0:i0 + end],
                               np.broadcast_to(delta.v, before.shape)[i0:i0 + end], t0 + i0)
        return i0 + end, stop

    def _block_quantities(self, checks: list[tuple[str, Bounded, np.ndarray, np.ndarray,
                                                   np.ndarray]],
                          i0: int, k: int) -> tuple[list[_BlockQuantity], np.ndarray]:
        """Each checked quantity over the block's steps i0…, judged as ``check`` would, and
        per step whether some row becomes undefined there (the rule's own 0/0)."""
        alive = ~self.done[:, None]
        skip_all = not self.measure and not self.done.any()
        event = np.zeros(k, dtype=bool)
        seen = []
        for q, ref, got, mask, start in checks:
            v = np.broadcast_to(ref.v, got.shape)[i0:]
            e = np.broadcast_to(ref.e, got.shape)[i0:]
            g = got[i0:]
            dist = np.abs(g - v)
            # a step is skipped only where every bound is finite: an infinite bound (the format
            # may overflow) is a note to keep even when the values compare inside it
            skipped = (((dist <= e) & np.isfinite(e)).all(axis=(1, 2)) if skip_all
                       else np.zeros(k, dtype=bool))
            dist[np.isinf(v) & (g == v)] = 0.0
            finite = np.isfinite(e)
            judged = mask & alive & finite & ~skipped[:, None, None]
            odd = mask & alive & ~finite & ~skipped[:, None, None]
            event |= (odd & np.isnan(v)).any(axis=(1, 2))
            beyond = np.where(np.isnan(dist), np.inf, dist - e)
            seen.append(_BlockQuantity(q, v, e, g, start[i0:], dist, beyond, judged, odd))
        return seen, event

    def _early_stop(self, seen: list[_BlockQuantity], end: int, rows: int,
                    owner: list[int]) -> tuple[int, bool]:
        """Where the block ends when every owner has a row outside within its first ``end``
        steps (through that step, and stopped), else ``end`` unchanged."""
        outs = np.zeros((end, rows), dtype=bool)
        for x in seen:
            outs |= ((x.beyond[:end] > 0) & x.judged[:end]).any(axis=2)
        first = np.where(outs.any(axis=0), np.argmax(outs, axis=0), np.inf)
        first = np.where([f is not None for f in self.first], -1.0, first)
        when: dict[int, float] = {}
        for o, f in zip(owner, first, strict=True):
            when[o] = min(when.get(o, np.inf), f)
        at = max(when.values())
        if np.isfinite(at):
            return int(at) + 1, True
        return end, False

    def _record_block(self, qi: int, x: _BlockQuantity, rows: int, base: int,
                      found: dict[int, list[tuple[int, int, Exit]]],
                      unjudged: dict[int, dict[int, str]]) -> None:
        """Record one quantity's distances and tallies over the block, and collect its first
        exits and possible overflows into ``found`` and ``unjudged`` (step i is base + i)."""
        ulp = ulp_at(np.maximum(np.abs(x.v), np.abs(x.start)), self.ar.fmt)
        far = np.where(x.judged, np.where(np.isnan(x.dist), np.inf, x.dist) / ulp, 0.0)
        self.far = np.maximum(self.far, far.max(axis=(0, 2)))
        if self.narrow and self.measure:
            once = x.v.astype(np.float32).astype(self.ar.fmt.dtype).astype(np.float64)
            counted = np.count_nonzero(x.judged, axis=(0, 2))
            equal = np.count_nonzero((once == x.g) & x.judged, axis=(0, 2))
            for r in range(rows):
                tally = self.exact[r].setdefault(x.q, [0, 0])
                tally[0] += int(counted[r])
                tally[1] += int(equal[r])
        outside = (x.beyond > 0) & x.judged
        if outside.any():
            self._collect_block_exits(qi, x, outside, ulp, base, found)
        if x.odd.any():  # a possible overflow (NaN would be an event, after ``end``)
            flagged = x.odd.any(axis=2)
            for r in np.flatnonzero(flagged.any(axis=0)):
                for s in np.flatnonzero(flagged[:, r]):
                    unjudged.setdefault(int(r), {}).setdefault(int(s), x.q)

    def _collect_block_exits(self, qi: int, x: _BlockQuantity, outside: np.ndarray,
                             ulp: np.ndarray, base: int,
                             found: dict[int, list[tuple[int, int, Exit]]]) -> None:
        """Raise the worst distances and collect, per row new to this quantity's exits, the
        first value outside, tagged with its step and quantity for ordering."""
        excess = np.where(outside, x.beyond / ulp, 0.0)
        self.worst = np.maximum(self.worst, excess.max(axis=(0, 2)))
        per_step = outside.any(axis=2)
        v, e, g = x.v, x.e, x.g
        for r in np.flatnonzero(per_step.any(axis=0)):
            if x.q in self.exits[r]:
                continue
            s = int(np.argmax(per_step[:, r]))
            i = int(np.argmax(outside[s, r]))
            hit = Exit(base + s, x.q, i, float(g[s, r, i]), float(v[s, r, i] - e[s, r, i]),
                       float(v[s, r, i] + e[s, r, i]), float(excess[s, r, i]))
            found.setdefault(int(r), []).append((s, qi, hit))

    def _keep_block_exits(self, found: dict[int, list[tuple[int, int, Exit]]]) -> None:
        """Keep the collected exits in the order step by step meets them: step, then
        quantity."""
        for r, xs in found.items():
            xs.sort(key=lambda z: (z[0], z[1]))
            for _, _, x in xs:
                self.exits[r][x.quantity] = x
            if self.first[r] is None:
                self.first[r] = xs[0][2]

    def _keep_block_unjudged(self, unjudged: dict[int, dict[int, str]], base: int) -> None:
        """Note the block's steps where a quantity may overflow, once per row and step."""
        for r, at in unjudged.items():
            for s in sorted(at):
                t = base + s
                if not self.unjudged[r] or self.unjudged[r][-1][0] != t:
                    self.unjudged[r].append((t, f"{at[s]} may overflow the format"))

    def _frozen_block(self, b: np.ndarray, d: np.ndarray, base: int) -> None:
        """The block's frozen steps (as ``frozen_check``): θ cannot move when every exact
        update is under half an ulp of it."""
        half = 0.5 * ulp_at(b, self.ar.fmt)
        still = (np.all(np.abs(d) < half, axis=2) & np.all(b != 0, axis=2)
                 & np.any(d != 0, axis=2)) & ~self.done[None, :]
        for s, r in zip(*np.nonzero(still), strict=True):
            self.frozen[r].append(base + int(s))

    def frozen_check(self, t: int, before: np.ndarray, delta: Bounded) -> None:
        """Steps where the exact update is under half an ulp of θ for every coordinate: a
        correct implementation rounding to nearest cannot move there."""
        if not self.measure:
            return
        half = 0.5 * ulp_at(before, self.ar.fmt)
        still = (np.all(np.abs(delta.v) < half, axis=1) & np.all(before != 0, axis=1)
                 & np.any(delta.v != 0, axis=1))
        if still.any():
            for r in np.flatnonzero(still & ~self.done):
                self.frozen[r].append(t)


def ulp_at(x: np.ndarray, fmt) -> np.ndarray:
    """The spacing of the format's values at |x| (the subnormal spacing near 0)."""
    _, e = np.frexp(np.abs(x))
    return np.ldexp(1.0, np.maximum(e - 1, fmt.emin) - fmt.precision + 1)
