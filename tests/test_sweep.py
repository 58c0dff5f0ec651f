"""Sweeps: the grid, failing cells recorded, local processes and a Dask cluster agree."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from verify.auditing.sweep import load_sweep, run_cell, run_sweep
from verify.errors import InputError

GRID = """
[sweep]
impl = ["numpy", "no-such-impl"]
optimizer = ["adam", "rmsprop"]
steps = 6
quick = true
[sweep.hyper]
lr = ["0.01", "0.001"]
"""


@pytest.fixture()
def grid(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    return path


def test_grid_is_the_full_product(grid):
    cells = load_sweep(grid)
    assert len(cells) == 2 * 2 * 2  # impl × optimizer × lr
    assert {c.hyper for c in cells} == {(("lr", "0.01"),), (("lr", "0.001"),)}
    assert [c.index for c in cells] == list(range(8))


def test_a_failing_cell_is_a_row_not_the_end(grid):
    cells = load_sweep(grid)
    bad = next(c for c in cells if c.impl == "no-such-impl")
    row = run_cell(bad)
    assert row.verdict == "failed" and "unknown implementation" in row.error
    good = run_cell(next(c for c in cells if c.impl == "numpy"))
    # a correct float32 Adam, 6 steps: a few operand ULPs from the certified golden
    assert good.verdict == "consistent" and good.max_ulps <= 4
    assert "quick: the probe setting only" in good.diagnosis


@pytest.mark.parametrize("text,message", [
    ('[sweep]\nimpl = ["numpy"]\n', "optimizer"),
    ('[sweep]\nimpl = ["numpy"]\noptimizer = ["adam"]\ndtype = ["float8"]\n', "unknown dtype"),
    ('[sweep]\nimpl = ["numpy"]\noptimizer = ["adam"]\n[sweep.hyper]\nlr = ["x"]\n', "lr"),
    ('[sweep]\nimpl = ["numpy"]\noptimizer = ["adam"]\nflavour = 1\n', "no field"),
])
def test_bad_sweep_files(tmp_path, text, message):
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_sweep(path)


def test_dask_cluster_gives_the_same_rows_as_local_processes(grid, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = run_sweep(load_sweep(grid), workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        res = subprocess.run([sys.executable, "-m", "verify", "sweep", str(grid),
                              "--scheduler", cluster.scheduler_address,
                              "--out", str(tmp_path / "out")],
                             capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "8 cells: 4 consistent, 0 discrepant, 0 not audited, 4 failed" in res.stdout
    with open(tmp_path / "out" / "sweep-grid.csv") as f:
        remote = list(csv.DictReader(f))
    assert [(r["impl"], r["optimizer"], r["hyper"], r["verdict"], r["max_ulps"]) for r in remote] \
        == [(r.cell.impl, r.cell.optimizer, " ".join(f"{k}={v}" for k, v in r.cell.hyper),
             r.verdict, "" if r.max_ulps is None else f"{r.max_ulps:.3g}") for r in local]
    assert Path(tmp_path / "out" / "sweep-grid.md").read_text().count("| `numpy` |") == 4


def test_unreachable_scheduler_is_one_clear_error(grid, capsys):
    pytest.importorskip("distributed")
    from verify.cli.main import main

    assert main(["sweep", str(grid), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and err.count("\n") == 1


def test_strict_exits_1_on_a_cell_that_is_not_consistent(grid, tmp_path):
    from verify.cli.main import main

    assert main(["sweep", str(grid), "--workers", "1", "--out", str(tmp_path)]) == 0
    assert main(["sweep", str(grid), "--workers", "1", "--out", str(tmp_path), "--strict"]) == 1


OPTIONS = """
[sweep]
targets = [["torch.optim:Adam", "adam"], ["torch.optim:AdamW", "adamw"]]
dtype = ["float32", "bfloat16"]
options = [{}, {maximize = true}, {fused = true}]
report = "torch-options"
"""


def test_targets_and_options_make_the_grid(tmp_path):
    from verify.auditing.sweep import report_stem

    path = tmp_path / "o.toml"
    path.write_text(OPTIONS)
    cells = load_sweep(path)
    assert len(cells) == 2 * 2 * 3  # targets × dtypes × option sets
    assert {(c.impl, c.optimizer) for c in cells} == {("torch.optim:Adam", "adam"),
                                                       ("torch.optim:AdamW", "adamw")}
    assert {c.options for c in cells} == {(), (("maximize", True),), (("fused", True),)}
    assert report_stem(path) == "torch-options"


def test_the_findings_paragraph_follows_the_rows():
    """The paragraph on top is computed: change one row and the sentence changes."""
    from verify.auditing.sweep import Cell, Row
    from verify.report.audit import sweep_findings

    base = Cell(0, "torch.optim:Adam", "adam", "probe", "float32", (), 12)
    flag = Cell(1, "torch.optim:Adam", "adam", "probe", "float32", (), 12, False,
                (("maximize", True),))
    same = Cell(2, "torch.optim:Adam", "adam", "probe", "float32", (), 12, False,
                (("foreach", True),))
    rows = [Row(base, "consistent", 1.0, "", 1.0, computes="adam"),
            Row(flag, "discrepant", None, "", 1.0, computes="unexplained"),
            Row(same, "consistent", 1.0, "", 1.0, computes="adam")]
    found = sweep_findings(rows)
    assert len(found) == 1 and "maximize=True: discrepant" in found[0]
    rows[2] = Row(same, "discrepant", None, "", 1.0, computes="adam-nobias")
    assert len(sweep_findings(rows)) == 2
