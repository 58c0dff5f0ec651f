"""Goldens for many independent coordinates fed by given gradient streams, in parallel.

Every rule in ``rules/catalogue.py`` is coordinate-wise: when the gradients do not depend on the
parameters (recorded gradient streams, synthetic audits), each coordinate's golden depends only
on its own stream, so coordinates are split into chunks and run in worker processes. The
result is the same, byte for byte, whatever the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from ..errors import InputError
from ..rules import iterate
from .arith import MpfrArith
from .certify import MpfrCertifier
from .spec import check_hyper, get_rule


@dataclass(frozen=True)
class StreamGolden:
    """Certified parameter values per coordinate and step (t = 0 is the start)."""

    params: tuple[tuple[str, ...], ...]  # [coordinate][t]
    digits: tuple[int, ...]  # fewest certified digits per coordinate


def _run_chunk(args: tuple) -> list[tuple[tuple[str, ...], int]]:
    rule_name, hyper, init, streams, dps = args
    rule = get_rule(rule_name)
    lo_ar, hi_ar = MpfrArith(dps), MpfrArith(2 * dps)
    runs = []
    for ar in (lo_ar, hi_ar):
        with ar.activate():
            hp = {k: ar.num(v) for k, v in hyper.items()}
            coords = []
            for x0, stream in zip(init, streams, strict=True):
                g = [ar.num(s) for s in stream]
                rows = iterate(rule, hp, [ar.num(x0)], lambda p, t, g=g: [g[t - 1]], len(g), ar,
                               flat=True)
                coords.append([row[0] for row in rows])  # the parameter leads each flat row
            runs.append(coords)
    certify = MpfrCertifier(dps).texts  # mpmath's certified_text, on gmpy2 numbers
    out = []
    for lo, hi in zip(*runs, strict=True):
        texts, digits = certify(lo, hi)
        out.append((tuple(texts), min(digits)))
    return out


def golden_streams(optimizer: str, hyper: dict[str, str], init: Sequence[str],
                   streams: Sequence[Sequence[str]], dps: int = 50, workers: int | None = None,
                   progress: Callable[[int, int], None] | None = None) -> StreamGolden:
    """Certified goldens of ``optimizer`` for each coordinate's gradient stream (decimal
    strings), computed in ``workers`` processes (default: one per CPU)."""
    if len(init) != len(streams) or not streams:
        raise InputError("need one start value per gradient stream, and at least one stream")
    if len({len(s) for s in streams}) != 1:
        raise InputError("every gradient stream must have the same number of steps")
    full = check_hyper(get_rule(optimizer), hyper)
    workers = workers or os.cpu_count() or 1
    size = max(1, -(-len(streams) // (4 * workers)))
    chunks = [(optimizer, full, list(init[i:i + size]), [list(s) for s in streams[i:i + size]],
               dps) for i in range(0, len(streams), size)]
    results: list = []
    if workers == 1:
        for k, c in enumerate(chunks):
            results += _run_chunk(c)
            if progress:
                progress(k + 1, len(chunks))
    else:
        with ProcessPoolExecutor(workers) as pool:
            for k, part in enumerate(pool.map(_run_chunk, chunks)):
                results += part
                if progress:
                    progress(k + 1, len(chunks))
    return StreamGolden(tuple(r[0] for r in results), tuple(r[1] for r in results))
