"""``adam-verify check``: regenerate every committed generated file in memory and compare.

Generated files are committed so that readers see them without running anything; this keeps them
from going stale. Each group regenerates its files the way its own verb writes them; a file that
differs is shown as a unified diff (or, for a figure, the data digest its PNG carries: pixels may
change with matplotlib, the data may not), and ``--update`` rewrites exactly those. Timings are the
machine's, not the code's: sweep rows are committed without them, and ``reports/benchmarks.md``
(written by ``adam-verify bench``) is the one generated file not checked.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import InputError
from ..files import write_atomic
from .common import done_progress, progress

Files = dict[Path, str | bytes]  # path → fresh content
SWEEPS = ("torch-adam-options.toml",)  # examples/ whose report is committed under reports/


@dataclass(frozen=True)
class Drift:
    """A committed generated file that differs from its regeneration."""

    group: str
    path: Path
    reason: str  # "missing", "differs", "figure data differs"
    diff: tuple[str, ...] = ()


def _checkout() -> Path:
    root = paths.checkout()
    if root is None:
        raise InputError("check runs in a checkout of adam-verify (it compares the committed "
                         "reports/ and examples/ with their regeneration)")
    return root


def goldens(root: Path) -> Files:
    from ..golden.goldenset import load_manifest, regenerate

    return {e.path(paths.GOLDEN): regenerate(e) for e in load_manifest()}


def derivations(root: Path) -> Files:
    from ..report.derivation import generated_files

    return {path: text for path, text in generated_files().values()}


def calibration(root: Path) -> Files:
    from ..auditing.calibration import blind_sets, calibrate, probes_from
    from ..report import render_calibration

    checkout = _checkout()
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    from tests.mutants import MUTANTS

    score = calibrate(probes_from(MUTANTS))
    blind = {name: calibrate(probes) for name, probes in blind_sets(checkout).items()}
    return {paths.CALIBRATION: score.to_json(blind),
            root / "reports" / "calibration.md": render_calibration(score, blind)}


def sensitivity(root: Path) -> Files:
    from ..auditing.sensitivity import as_json, measure, to_json
    from ..report.audit import render_sensitivity

    rows = measure(progress=progress)
    return {paths.SENSITIVITY: to_json(rows),
            root / "reports" / "sensitivity.md": render_sensitivity(as_json(rows))}


def reports(root: Path) -> Files:
    from .document import build_report, report_name

    out: Files = {}
    for claims in (paths.ARTICLE_CLAIMS, paths.KINGMA_BA_CLAIMS):
        name = report_name(claims)
        _, text, pngs = build_report(claims, name)
        out[root / "reports" / f"{name}.md"] = text
        out.update({root / "reports" / rel: png for rel, png in pngs.items()})
    return out


def sweeps(root: Path) -> Files:
    from ..auditing.sweep import load_sweep, report_stem, run_sweep
    from .audit import sweep_texts

    out: Files = {}
    for name in SWEEPS:
        spec = root / "examples" / name
        text, table = sweep_texts(spec, run_sweep(load_sweep(spec)))
        stem = report_stem(spec)
        out[root / "reports" / f"{stem}.md"] = text
        out[root / "reports" / f"{stem}.csv"] = table
    return out


def third_party(root: Path) -> Files:
    from ..auditing.thirdparty import third_party as run
    from ..report.thirdparty import render_third_party

    target = root / "reports" / "third-party.md"
    result = run()
    committed = target.read_text() if target.exists() else ""
    return {target: render_third_party(result, kept_rows(committed, result.missing))}


def kept_rows(committed: str, missing: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Rows of the committed third-party table whose package is not installed in this run,
    marked with the date they were first kept (a row that carries the mark keeps it)."""
    import datetime

    today = datetime.date.today().isoformat()
    kept = []
    for line in committed.splitlines():
        cells = line.split(" | ")
        if not line.startswith("| ") or len(cells) < 3 or not cells[1].startswith("`"):
            continue
        module = cells[1].strip("`").split(":")[0].split(".")[0]
        if module in missing:
            if "kept since" not in cells[0]:
                cells[0] = f"{cells[0]} (kept since {today})"
            kept.append((module, " | ".join(cells)))
    return tuple(kept)


# in dependency order: the bundled reports quote the calibration and the sensitivity
GROUPS: dict[str, Callable[[Path], Files]] = {
    "goldens": goldens, "derivations": derivations, "calibration": calibration,
    "sensitivity": sensitivity, "reports": reports, "sweeps": sweeps, "third-party": third_party,
}


def _drift(group: str, path: Path, fresh: str | bytes) -> Drift | None:
    from ..report.figures import png_digest

    if not path.exists():
        return Drift(group, path, "missing")
    old = path.read_bytes()
    if isinstance(fresh, bytes):
        if png_digest(old) == png_digest(fresh) is not None:
            return None
        return Drift(group, path, "figure data differs")
    old_text = old.decode("utf-8", errors="replace")
    if old_text == fresh:
        return None
    diff = tuple(difflib.unified_diff(old_text.splitlines(), fresh.splitlines(),
                                      f"{path} (committed)", f"{path} (regenerated)",
                                      n=0, lineterm=""))
    return Drift(group, path, "differs", diff)


def check(groups: list[str], root: Path, update: bool = False
          ) -> tuple[list[Drift], dict[Path, str | bytes], int]:
    """Regenerate the groups' files; the drifts, the fresh files and how many were compared.
    ``update``: each group's drifts are written before the next group runs (a later group may
    quote an earlier one's file: the reports quote the calibration)."""
    os.environ["ADAM_VERIFY_FRESH"] = "1"  # nothing reused from the cache: regenerated for real
    drifts, fresh = [], {}
    for group in [g for g in GROUPS if g in groups]:
        progress(f"check: {group}")
        files = GROUPS[group](root)
        fresh.update(files)
        found = [d for path, new in files.items() if (d := _drift(group, path, new))]
        if group == "reports":
            found += [Drift(group, png, "not generated by anything any more")
                      for png in sorted((root / "reports" / "figures").glob("*.png"))
                      if png not in files]
        if update:
            for d in found:
                if d.path in files:
                    write_atomic(d.path, files[d.path])
                else:
                    d.path.unlink()
        drifts += found
    done_progress()
    return drifts, fresh, len(fresh)


MAX_DIFF_LINES = 40


def cmd_check(args: argparse.Namespace) -> int:
    root = Path(args.root) if args.root else _checkout()
    if not (root / "reports").is_dir():
        raise InputError("no reports/ folder to compare", where=str(root))
    groups = list(GROUPS) if not args.only else _groups(args.only)
    if args.update:
        paths.writable_data()
    drifts, fresh, n = check(groups, root, update=args.update)
    for d in drifts:
        rel = d.path.relative_to(root) if d.path.is_relative_to(root) else d.path
        print(f"{'updated' if args.update else 'stale'}: {rel} ({d.group}: {d.reason})")
        if not args.update:
            for line in d.diff[:MAX_DIFF_LINES]:
                print("    " + line[:300])
            if len(d.diff) > MAX_DIFF_LINES:
                print(f"    … {len(d.diff) - MAX_DIFF_LINES} more diff lines")
    verb = "rewritten" if args.update else "stale"
    print(f"{len(drifts)} of {n} generated files {verb} ({', '.join(groups)})")
    return 1 if drifts and not args.update else 0


def _groups(text: str) -> list[str]:
    from ..errors import unknown

    names = [g.strip() for g in re.split(r"[,\s]+", text) if g.strip()]
    for g in names:
        if g not in GROUPS:
            raise InputError("--only: " + unknown("group", g, GROUPS))
    return names


def add_check(sub) -> None:
    c = sub.add_parser("check", help="regenerate every committed generated file and compare "
                                     "(exit 1 with a diff when one is stale)",
                       description=__doc__.split("\n\n")[0] + " Run it in a checkout.")
    c.add_argument("--only", metavar="GROUPS",
                   help="comma-separated groups to check (default: all): " + ", ".join(GROUPS))
    c.add_argument("--root", metavar="DIR",
                   help="the tree whose reports/ and examples/ are compared (default: the checkout)")
    c.add_argument("--update", action="store_true",
                   help="rewrite the stale files instead of failing")
    c.set_defaults(func=cmd_check)
