"""Drift flags: placeholder reader until the models land (see the "# Drift flags" section of
reviews/models.py)."""


def open_flags_by_rep(user_ids) -> dict[int, list]:
    return {}
