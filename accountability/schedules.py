"""Every periodic schedule, in one place, each with when and why.

django-celery-beat copies these into the database when beat starts (DatabaseScheduler),
where admins can change them in the Django admin (Periodic tasks).
Each area keeps its entries in its own block below.
"""

from celery.schedules import crontab  # noqa: F401 - used by the blocks below

BEAT_SCHEDULE: dict = {}


# --- Follow-up SLAs (leads.sla) -------------------------------------------------
# (entries added by the SLA work)


# --- Expectations documents (accountability.expectations) -----------------------
# (entries added by the expectations work)


# --- Goals and commitments (goals) ----------------------------------------------
# (entries added by the goals work)


# --- Reviews and recognition ------------------------------------------------------
# (entries added later)
