"""What a document claims (``derivations/claims/*.toml``) and the verdict on each claim.

A number printed with k decimals is confirmed when the golden value lies within half a unit of
its last printed digit (what correct rounding to k decimals allows); otherwise contradicted.
Other kinds of claim are checked by what the pipeline derives: formulas against the rules run
on SymPy symbols, counts of minima against the symbolic classification, stated defaults against
the paper and the frameworks' signatures, API snippets against the installed packages, and
qualitative statements by an experiment with a declared protocol (``experiments.py``).

One module per kind of check; the schema and the loader apart:
``schema`` (data model), ``loader`` (TOML → validated claims), ``verdicts`` (results and the
printed-precision rule), ``numbers``, ``formulas``, ``facts``, ``frameworks``, ``behaviour``,
``audits`` (the checks), ``check`` (dispatch).
"""

from .check import CHECKERS, check_claim, check_claims, iteration_of
from .formulas import formula_expr, rule_formulas
from .loader import load_claims
from .numbers import labels
from .schema import IDENTITY_IDS, KINDS, OPTIONAL, Claim, ClaimsFile
from .verdicts import (
    ASSUMPTION,
    CONFIRMED,
    CONTRADICTED,
    DEPENDS,
    NOT_CHECKABLE,
    PARTLY,
    VERDICTS,
    ClaimResult,
    ItemResult,
    check_item,
    printed_tolerance,
)

__all__ = ["ASSUMPTION", "CHECKERS", "CONFIRMED", "CONTRADICTED", "DEPENDS", "IDENTITY_IDS",
           "KINDS", "NOT_CHECKABLE", "OPTIONAL", "PARTLY", "VERDICTS", "Claim", "ClaimResult",
           "ClaimsFile", "ItemResult", "check_claim", "check_claims", "check_item",
           "formula_expr", "iteration_of", "labels", "load_claims", "printed_tolerance",
           "rule_formulas"]
