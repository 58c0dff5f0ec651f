"""`adam-verify claims init DOC`: a loadable draft claims file for any Markdown or text file."""

import subprocess
import sys

from verify.claims import load_claims
from verify.claims.draft import blocks, draft

DOC = """# Notes on Adam

## Defaults

The default learning rate α is 0.001 and β₁ = 0.9 works well.

Adam helps the optimizer escape local minima.

## Code

```python
import math
math.sqrt(2, 3)
```

The update is: \\theta_{t+1} = \\theta_t - \\alpha g_t

After one step: w_1 = 0.44, b_1 = 0.12
"""


def test_draft_finds_each_kind_of_statement():
    assert [k for _, k, _ in blocks(DOC)].count("code") == 1
    drafts = draft(DOC)
    by_kind = {}
    for d in drafts:
        by_kind.setdefault(d.suggested, []).append(d)
    assert {dict(d.fields)["quantity"] for d in by_kind["default"]} == {"lr", "beta1"}
    assert by_kind["code"][0].section == "Code"
    assert any("escape local minima" in d.quote for d in by_kind["experiment or literature"])
    assert any("theta" in d.quote for d in by_kind["formula"])
    assert any("0.44" in d.quote for d in by_kind["trace"])


def test_claims_init_writes_a_loadable_draft(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text(DOC)
    out = tmp_path / "notes.toml"
    run = [sys.executable, "-m", "verify", "claims", "init", str(doc), "--out", str(out)]
    res = subprocess.run(run, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    claims = load_claims(out).claims
    assert any(c.kind == "code" for c in claims) and any(c.kind == "default" for c in claims)
    # nothing overwritten without --force: one line on stderr, exit 2
    again = subprocess.run(run, capture_output=True, text=True)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "--force" in again.stderr
    missing = subprocess.run([sys.executable, "-m", "verify", "claims", "init",
                              str(tmp_path / "nope.md")], capture_output=True, text=True)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
