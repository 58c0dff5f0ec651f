"""An "implementation" whose process dies mid-run, as one crashing inside a framework's native
code would: for the batch audits' handling of a lost worker."""

import os


def exit_now(params, grad, state, t, hyper):
    os._exit(3)
