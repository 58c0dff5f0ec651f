"""Where the versioned data lives: ``derivations/`` and ``reports/`` beside the package."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("ADAM_VERIFY_ROOT", Path(__file__).resolve().parents[1]))
DERIVATIONS = ROOT / "derivations"
PROBLEMS = DERIVATIONS / "problems"
GOLDEN = DERIVATIONS / "golden"
CLAIMS = DERIVATIONS / "claims"
SYMBOLIC = DERIVATIONS / "symbolic"
STREAMS = DERIVATIONS / "streams"  # gradient streams of the audit battery
CALIBRATION = DERIVATIONS / "calibration.json"  # the audit's mutation score
REPORTS = ROOT / "reports"
ARTICLE_CLAIMS = CLAIMS / "adam_deeply_explained.toml"
