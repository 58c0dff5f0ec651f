"""Where data is read and outputs go.

The catalogue data (problems, streams, claims of the bundled documents, committed goldens,
derivations, the calibration score) ships inside the package under ``verify/derivations`` and
is found through ``importlib.resources``, so a wheel works outside its checkout. Outputs are the
user's: ``./reports/`` of the current directory unless ``--out`` says otherwise.
``ADAM_VERIFY_ROOT=DIR`` replaces both with ``DIR/derivations`` and ``DIR/reports`` (a project
of your own problems, goldens and claims; the tests use it for scratch copies).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

BUNDLED = Path(str(resources.files("verify") / "derivations"))
_project = os.environ.get("ADAM_VERIFY_ROOT")
DERIVATIONS = Path(_project) / "derivations" if _project else BUNDLED
PROBLEMS = DERIVATIONS / "problems"
GOLDEN = DERIVATIONS / "golden"
CLAIMS = DERIVATIONS / "claims"
SYMBOLIC = DERIVATIONS / "symbolic"
STREAMS = DERIVATIONS / "streams"  # gradient streams of the audit battery
CALIBRATION = DERIVATIONS / "calibration.json"  # the audit's mutation score
SENSITIVITY = DERIVATIONS / "sensitivity.json"  # the smallest error of the update it flags
# relative, so it resolves against the current directory when a file is written
REPORTS = Path(_project) / "reports" if _project else Path("reports")
ARTICLE_CLAIMS = CLAIMS / "adam_deeply_explained.toml"
KINGMA_BA_CLAIMS = CLAIMS / "kingma_ba_2015.toml"


def checkout() -> Path | None:
    """The adam-verify source checkout this package runs from (an editable install, or
    ``python -m verify`` inside it): the directory above the package, when it holds
    ``tests/mutants``. None for an installed wheel, wherever it is run: a checkout in the
    current directory is not the code that runs, and its data is not the data read."""
    root = Path(__file__).resolve().parents[1]
    if (root / "tests" / "mutants" / "registry.py").is_file():
        return root
    return None


def writable_data() -> None:
    """Refuse to rewrite the catalogue data of an installed package: ``--update`` rewrites the
    committed files of a checkout (or of ``ADAM_VERIFY_ROOT``), never site-packages."""
    from .errors import InputError

    if not _project and checkout() is None:
        raise InputError("--update rewrites the committed files of a checkout of adam-verify "
                         "(or of ADAM_VERIFY_ROOT); this one is an installed package")
