"""Demo flags: the drift rules run over the demo's rollup (leads.demo builds it), as the nightly
task would, so Maria's and Sam's reps show real early flags.

TODO(merge): reviews/demo.py (the reviews helper's) calls `seed(ctx)` at its end:
    from reviews import drift_demo; drift_demo.seed(ctx)
Deterministic for the demo's data and safe to run twice (flags are keyed per rep, rule, week).
"""

from reviews.drift import drift_flags_compute


def seed(ctx) -> None:
    raised = drift_flags_compute(today=ctx.now.date(), now=ctx.now)
    if raised:
        ctx.created.append(f"Early flags of drift: {raised}")
