"""Every periodic schedule, in one place, each with when and why.

django-celery-beat copies these into the database when beat starts (DatabaseScheduler),
where admins can change them in the Django admin (Periodic tasks).
Each area keeps its entries in its own block below.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {}


# --- Follow-up SLAs (leads.sla) -------------------------------------------------
# (entries added by the SLA work)


# --- Expectations documents (accountability.expectations) -----------------------
# Daily at 09:00 (CELERY_TIMEZONE): remind people who have not acknowledged a version published
# more than EXPECTATIONS_ACK_REMINDER_DAYS (default 3) days ago; once per version and person.
BEAT_SCHEDULE["expectations-acknowledgement-reminders"] = {
    "task": "accountability.expectations.tasks.send_acknowledgement_reminders",
    "schedule": crontab(hour=9, minute=0),
}


# --- Goals and commitments (goals) ----------------------------------------------
# (entries added by the goals work)


# --- Reviews and recognition ------------------------------------------------------
# (entries added later)
