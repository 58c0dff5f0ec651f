"""Problems as data and what SymPy derives from them: gradients, critical points, identities."""
