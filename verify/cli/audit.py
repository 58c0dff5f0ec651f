"""The audit verbs of the command line: audit, sweep, calibrate (argument parsing and wiring;
the work is in verify.auditing, the text in verify.report)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import paths
from ..errors import InputError
from ..files import write_atomic
from ..rules import RULES
from .common import HYPER, bar, done_progress, positive_int, progress, writable_dir


def cmd_audit(args: argparse.Namespace) -> int:
    from ..auditing import audit
    from ..golden.spec import get_rule
    from ..report import render_audit

    get_rule(args.optimizer)  # a misspelt name is refused before anything is created
    hyper = {k: getattr(args, k) for k in HYPER if getattr(args, k) is not None}
    if args.size:
        return _audit_tensor(args, hyper)
    progress(f"auditing {args.impl}")
    out_dir = writable_dir(Path(args.out) if args.out else paths.REPORTS)  # fail before work
    from ..runners.hypermap import parse_option

    options = dict(parse_option(o) for o in args.option or ())
    result = audit(args.impl, args.optimizer, args.problem, hyper, args.steps, args.dtype,
                   args.quick, progress=progress, options=options or None)
    done_progress()
    text = render_audit(result)
    target = out_dir / audit_file_name(result.impl, result.optimizer, args, options, hyper)
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(target)) from None
    print(result.first_line())
    print(f"wrote {target}")
    return 1 if args.strict and result.verdict != "consistent" else 0


def audit_file_name(impl: str, optimizer: str, args: argparse.Namespace,
                    options: dict, hyper: dict[str, str]) -> str:
    """``audit-<impl>-<optimizer>[-<problem>][-quick][-<dtype>][-<option>…][-<hyper>…].md``:
    audits that differ in what was asked do not overwrite each other."""
    parts = [impl, optimizer]
    if args.problem:
        parts.append(Path(args.problem).stem)
    if args.quick:
        parts.append("quick")
    if args.dtype != "float32":
        parts.append(args.dtype)
    parts += [f"{k}={v}" for k, v in sorted(options.items())]
    parts += [f"{k}{v}" for k, v in sorted(hyper.items())]
    if args.steps:
        parts.append(f"steps{args.steps}")
    name = "-".join(parts)
    return "audit-" + "".join(c if c.isalnum() or c in "-_.=" else "_" for c in name) + ".md"


def _audit_tensor(args: argparse.Namespace, hyper: dict[str, str]) -> int:
    from ..auditing.sampled import audit_tensor
    from ..report import render_tensor_audit

    if args.dtype != "float32" or args.problem:
        raise InputError("--size audits run float32 on seeded gradient streams; "
                         "drop --dtype/--problem")
    out_dir = writable_dir(Path(args.out) if args.out else paths.REPORTS)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in args.impl)
    stem = f"audit-{safe}-{args.optimizer}-{args.size}"
    steps = args.steps or 100
    result = audit_tensor(args.impl, args.optimizer, args.size, steps, args.seed, hyper,
                          npz=out_dir / f"{stem}.npz", progress=progress)
    done_progress()
    target = out_dir / f"{stem}.md"
    try:
        write_atomic(target, render_tensor_audit(result))
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(target)) from None
    where = "every coordinate inside" if result.first_exit is None else (
        f"{result.outside_coordinates} coordinates outside, first {result.first_exit[1].text()}")
    print(f"{args.impl} {args.optimizer} on {args.size} parameters × {steps} steps: "
          f"{result.verdict} with its rounding envelope ({where}); "
          + (f"computes {result.computes}; " if result.computes != "unexplained"
             else "no catalogue variant explains it; ") +
          f"max {result.max_ulps_golden:.3g} operand ulps from the certified golden "
          f"({result.sampled} sampled + {result.extremes} extreme coordinates); "
          f"{sum(result.seconds.values()):.1f} s")
    print(f"wrote {target} and {result.npz}")
    return 1 if args.strict and result.verdict != "consistent" else 0


def sweep_texts(spec: Path, rows: list) -> tuple[str, str]:
    """A sweep's Markdown and CSV, as the verb writes them and ``check`` compares them: without
    the cells' timings, which are the machine's, not the code's (the verb prints the total)."""
    import csv
    import io
    from dataclasses import replace

    from ..auditing.sweep import CSV_COLUMNS, csv_rows
    from ..report import render_sweep

    rows = [replace(r, seconds=None) for r in rows]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(rows))
    return render_sweep(rows, spec.name), buf.getvalue()


def cmd_sweep(args: argparse.Namespace) -> int:
    import time

    from ..auditing.sweep import dask_executor, load_sweep, report_stem, run_sweep

    spec = Path(args.spec)
    cells = load_sweep(spec)
    out_dir = writable_dir(Path(args.out) if args.out else paths.REPORTS)
    executor = dask_executor(args.scheduler) if args.scheduler else None
    t0 = time.perf_counter()
    rows = run_sweep(cells, executor, args.workers,
                     progress=lambda d, n: bar(d, n, "sweep", smallest=1))
    done_progress()
    text, table_text = sweep_texts(spec, rows)
    stem = report_stem(spec)
    md, table = out_dir / f"{stem}.md", out_dir / f"{stem}.csv"
    try:
        write_atomic(md, text)
        write_atomic(table, table_text)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(out_dir)) from None
    counts = {v: sum(r.verdict == v for r in rows)
              for v in ("consistent", "discrepant", "not audited", "failed")}
    print(f"{len(rows)} cells: " + ", ".join(f"{n} {v}" for v, n in counts.items())
          + f"; wrote {md} and {table} ({time.perf_counter() - t0:.1f} s)")
    return 1 if args.strict and counts["consistent"] < len(rows) else 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    import importlib

    from ..auditing.calibration import blind_line, blind_sets, calibrate, load_counts, probes_from
    from ..report import render_calibration

    _import_path_for_mutants(args.mutants)
    try:
        registry = importlib.import_module(args.mutants).MUTANTS
    except (ImportError, AttributeError) as exc:
        raise InputError(f"--mutants {args.mutants!r}: no MUTANTS registry there ({exc})") from None
    out_dir = writable_dir(Path(args.out) if args.out else paths.REPORTS)
    score = calibrate(probes_from(registry), args.workers,
                      progress=lambda d, n: bar(d, n, "calibration", smallest=1))
    if args.sensitivity:
        return _sensitivity(args)
    root = paths.checkout()
    blind = {name: calibrate(probes, args.workers,
                             progress=lambda d, n, name=name: bar(d, n, f"blind set {name}", smallest=1))
             for name, probes in (blind_sets(root).items() if root else ())}
    done_progress()
    committed = paths.CALIBRATION.read_text() if paths.CALIBRATION.exists() else None
    print(score.line())
    for name, b in blind.items():
        print(blind_line(name, b.blind_counts))
    if args.check:
        if committed is None or load_counts(committed) != score.counts:
            print(f"{paths.CALIBRATION} differs from this calibration (run calibrate --update)")
            return 1
        return 0
    try:
        write_atomic(out_dir / "calibration.md", render_calibration(score, blind))
        if args.update:
            paths.writable_data()
            write_atomic(paths.CALIBRATION, score.to_json(blind))
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(out_dir)) from None
    print(f"wrote {out_dir / 'calibration.md'}" + (f" and {paths.CALIBRATION}" if args.update else ""))
    return 0 if all(o.ok for o in score.outcomes) else 1


def add_verbs(sub) -> None:
    """Register the audit, sweep and calibrate verbs on the CLI's subparsers."""
    a = sub.add_parser("audit", help="audit an optimizer implementation against the goldens")
    a.add_argument("--impl", required=True,
                   help="numpy, torch, torch-foreach, torch-fused, mlx, mlx-default, optax, "
                        "keras, keras-torch, or MODULE:CALLABLE")
    a.add_argument("--optimizer", default="adam", metavar="RULE",
                   help="the rule the implementation claims to compute (default: adam); one of "
                        + ", ".join(sorted(RULES)))
    a.add_argument("--problem", help="a problem whose gradients replace the probe stream in "
                                      "the battery's settings (default: the probe)")
    a.add_argument("--steps", type=positive_int,
                   help="length of the probe setting, or of the setting made of the "
                        "hyperparameters you give (default 12; 100 with --size)")
    a.add_argument("--option", action="append", metavar="NAME=VALUE",
                   help="passed to an optimizer object's constructor (repeatable; typed: "
                        "true/false, integers, numbers, tuples like 0.9,0.999)")
    a.add_argument("--quick", action="store_true",
                   help="run the probe setting only (the verdict says so)")
    for h in HYPER:
        a.add_argument(f"--{h.replace('_', '-')}", dest=h, help=f"{h} as a decimal string")
    a.add_argument("--out", help="output directory for the Markdown audit (default: reports/)")
    a.add_argument("--strict", action="store_true", help="exit 1 when the verdict is discrepant")
    a.add_argument("--size", type=positive_int,
                   help="audit a tensor of this many parameters on seeded gradient streams "
                        "(sampled certified goldens + a float64 shadow of every coordinate)")
    a.add_argument("--seed", type=int, default=0, help="seed of the --size gradient streams")
    a.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"),
                   help="the run's floating-point format (default float32; float16 and bfloat16: every "
                        "built-in implementation, Keras included, and torch, optax, MLX and "
                        "TensorFlow objects; your own step functions and Keras objects run in float32)")
    a.set_defaults(func=cmd_audit)

    w = sub.add_parser("sweep", help="audit every cell of a grid (TOML) and tabulate")
    w.add_argument("spec", help="sweep file: [sweep] impl, optimizer, problem, dtype, hyper")
    w.add_argument("--workers", type=positive_int, help="local processes (default: CPUs)")
    w.add_argument("--scheduler", help="Dask scheduler address (tcp://host:port) to run on")
    w.add_argument("--out", help="output directory (default: reports/)")
    w.add_argument("--strict", action="store_true",
                   help="exit 1 unless every cell is consistent (discrepant, not audited, failed)")
    w.set_defaults(func=cmd_sweep)

    k = sub.add_parser("calibrate", help="the audit's mutation score: broken and correct "
                                         "implementations, audited")
    k.add_argument("--mutants", default="tests.mutants",
                   help="module with a MUTANTS registry (default: tests.mutants)")
    k.add_argument("--workers", type=positive_int, help="processes (default: all cores)")
    k.add_argument("--out", help="where calibration.md goes (default: reports/)")
    k.add_argument("--update", action="store_true", help=f"also rewrite {paths.CALIBRATION.name}")
    k.add_argument("--sensitivity", action="store_true",
                   help="measure the smallest relative error of the update the audit flags "
                        "(reports/sensitivity.md; with --update also verify/derivations/"
                        "sensitivity.json); about two minutes")
    k.add_argument("--check", action="store_true",
                   help="exit 1 if the committed score differs from this run's")
    k.set_defaults(func=cmd_calibrate)


def _sensitivity(args: argparse.Namespace) -> int:
    """``calibrate --sensitivity``: the smallest error of the update the audit flags."""
    import json

    from ..auditing.sensitivity import as_json, measure, sentence, to_json
    from ..report.audit import render_sensitivity

    out_dir = writable_dir(Path(args.out) if args.out else paths.REPORTS)
    rows = measure(progress=progress)
    done_progress()
    print(sentence(as_json(rows)))
    if args.check:
        same = paths.SENSITIVITY.exists() and json.loads(paths.SENSITIVITY.read_text()) == as_json(rows)
        if not same:
            print(f"{paths.SENSITIVITY} differs from this measurement (run calibrate --sensitivity "
                  "--update)")
        return 0 if same else 1
    write_atomic(out_dir / "sensitivity.md", render_sensitivity(as_json(rows)))
    if args.update:
        paths.writable_data()
        write_atomic(paths.SENSITIVITY, to_json(rows))
    print(f"wrote {out_dir / 'sensitivity.md'}" + (f" and {paths.SENSITIVITY}" if args.update else ""))
    return 0


def _import_path_for_mutants(module: str) -> None:
    """The calibration implementations live in the checkout's tests/: put it on the path."""
    root = paths.checkout()
    if root is not None and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    elif root is None and module.startswith("tests."):
        raise InputError("calibrate runs in a checkout of adam-verify (its implementations are in "
                         f"tests/mutants/): {module!r} is not importable here")
