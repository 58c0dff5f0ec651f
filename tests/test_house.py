"""The house as a user meets it: names suggested when misspelt, user code imported from the
current directory, audit files that do not overwrite each other, outputs where the user runs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verify.errors import _edits, unknown

FIXTURES = Path(__file__).parent / "fixtures"


def test_edit_distance_counts_a_swap_as_one_edit():
    # Damerau (optimal string alignment) distances, counted by hand
    assert _edits("adma", "adam") == 1  # one swap
    assert _edits("adma", "adamax") == 2  # insert a, insert x
    assert _edits("rmsporp", "rmsprop") == 1
    assert _edits("", "gd") == 2
    assert _edits("nesterov", "nesterov") == 0


@pytest.mark.parametrize(("name", "hint"), [("adma", "adam"), ("rmsporp", "rmsprop"),
                                            ("Adam", "adam"), ("amsgard", "amsgrad")])
def test_a_misspelt_name_gets_a_suggestion(name, hint):
    msg = unknown("optimizer", name, ["adam", "adamax", "adamw", "amsgrad", "rmsprop"])
    assert f"did you mean {hint!r}?" in msg
    assert msg.startswith(f"unknown optimizer {name!r}")


def test_a_name_far_from_every_known_one_gets_no_suggestion():
    msg = unknown("problem", "completely_else", ["quartic", "beale"])
    assert "did you mean" not in msg
    assert msg.endswith("(known: quartic, beale)")


def _cli(args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ADAM_VERIFY_ROOT")}
    env["ADAM_VERIFY_CACHE"] = "off"
    return subprocess.run([sys.executable, "-c", "import sys; from verify.cli.main import main; "
                           "sys.exit(main())", *args], cwd=cwd, env=env, capture_output=True,
                          text=True)


def test_misspelt_optimizer_on_the_command_line(tmp_path):
    r = _cli(["audit", "--impl", "numpy", "--optimizer", "adma"], tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "did you mean 'adam'?" in r.stderr
    assert not (tmp_path / "reports").exists()


def test_user_code_is_imported_from_the_current_directory_and_outputs_go_there(tmp_path):
    # `python -c` puts '' on sys.path; the console script does not: drop it like the script
    shutil.copy(FIXTURES / "user_optimizers.py", tmp_path / "my_local_opt.py")
    code = ("import sys; sys.path = [p for p in sys.path if p not in ('', '.')]; "
            "from verify.cli.main import main; sys.exit(main())")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ADAM_VERIFY_ROOT")}
    env["ADAM_VERIFY_CACHE"] = "off"
    r = subprocess.run([sys.executable, "-c", code, "audit", "--impl", "my_local_opt:adam",
                        "--quick"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("my_local_opt:adam adam (float32")
    assert "consistent with adam" in r.stdout
    assert (tmp_path / "reports" / "audit-my_local_opt_adam-adam-quick.md").is_file()


def test_audits_asking_different_things_write_different_files(tmp_path):
    for extra in ([], ["--quick"], ["--problem", "quartic", "--quick"], ["--lr", "0.01", "--quick"]):
        r = _cli(["audit", "--impl", "numpy"] + extra, tmp_path)
        assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "reports").glob("audit-*.md"))
    assert names == ["audit-numpy-adam-quartic-quick.md", "audit-numpy-adam-quick-lr0.01.md",
                     "audit-numpy-adam-quick.md", "audit-numpy-adam.md"]


@pytest.mark.parametrize(("source", "expected"), [
    ("def step(:\n", "importing broken_mod failed: SyntaxError"),
    ("raise RuntimeError('boom at import')\n", "importing broken_mod failed: RuntimeError: boom"),
])
def test_a_user_module_that_fails_to_import_is_one_line_and_leaves_nothing(tmp_path, source,
                                                                           expected):
    (tmp_path / "broken_mod.py").write_text(source)
    r = _cli(["audit", "--impl", "broken_mod:step"], tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and expected in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken_mod.py"]  # no reports/


def test_an_option_no_constructor_takes_is_refused(tmp_path):
    r = _cli(["audit", "--impl", "numpy", "--option", "foo=1", "--quick"], tmp_path)
    assert r.returncode == 2 and "--option goes to an optimizer object's constructor" in r.stderr
    assert not (tmp_path / "reports").exists()


def test_a_bundled_document_is_named_without_its_path(tmp_path):
    r = _cli(["report", "--claims", "kingma_ba_2015", "--impls", "none"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "reports" / "kingma_ba_2015.md").is_file()


def test_a_figure_is_stale_when_its_data_changes_not_when_its_pixels_do(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from verify.cli.check import _drift
    from verify.report.figures import _save

    def png(ys, dpi_scale=1.0):
        fig, ax = plt.subplots(figsize=(3 * dpi_scale, 2))
        ax.plot([0, 1, 2], ys, color="C0")
        sink = {}
        _save(fig, sink, "f")
        return next(iter(sink.values()))

    committed = tmp_path / "f.png"
    committed.write_bytes(png([1, 2, 3]))
    assert _drift("reports", committed, png([1, 2, 3], dpi_scale=1.5)) is None  # other pixels
    assert _drift("reports", committed, png([1, 2, 4])).reason == "figure data differs"
    committed.write_bytes(b"\x89PNG\r\n\x1a\n")  # no digest: never taken as current
    assert _drift("reports", committed, png([1, 2, 3])).reason == "figure data differs"
