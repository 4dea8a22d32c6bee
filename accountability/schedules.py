"""Every periodic schedule, in one place, each with when and why.

django-celery-beat copies these into the database when beat starts (DatabaseScheduler),
where admins can change them in the Django admin (Periodic tasks).
Each area keeps its entries in its own block below.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {}


# --- Follow-up SLAs (leads.sla) -------------------------------------------------
# Every minute: derive due reminders and escalations from the leads' columns, record each
# once, enqueue their delivery, and enqueue again anything the broker lost (including email/SMS
# deliveries whose retry was dropped). A minute is the SLA's resolution: a breach is noticed
# at most ~60 s late. Missed runs cost nothing: the next run finds the same rows.
BEAT_SCHEDULE["sla-sweep"] = {
    "task": "leads.sla.tasks.sla_sweep_task",
    "schedule": 60.0,
    # A sweep older than a minute is superseded by the next one.
    "options": {"expires": 55},
}


# Nightly at 00:20 (CELERY_TIMEZONE): roll up the day just ended into leads.RepDay/TeamDay, and
# re-roll closed days whose rows changed since the last run, so dashboards and trends read one
# row per person and day instead of the raw leads. A zone behind UTC has its day rolled up the
# next night; until then leads.metrics reads that day raw (same figures, a little slower).
BEAT_SCHEDULE["leads-rollup-nightly"] = {
    "task": "leads.tasks.rollup_refresh_task",
    "schedule": crontab(minute=20, hour=0),
}


# --- Expectations documents (accountability.expectations) -----------------------
# Daily at 09:00 (CELERY_TIMEZONE): remind people who have not acknowledged a version published
# more than EXPECTATIONS_ACK_REMINDER_DAYS (default 3) days ago; once per version and person.
BEAT_SCHEDULE["expectations-acknowledgement-reminders"] = {
    "task": "accountability.expectations.tasks.send_acknowledgement_reminders",
    "schedule": crontab(hour=9, minute=0),
}


# --- Goals and commitments (goals) ----------------------------------------------
# Just after midnight (site time): snapshot each running goal's figure for the day that
# ended (the progress chart), record pacing changes (at-risk notices), mark met/missed.
BEAT_SCHEDULE["goals-evaluate-daily"] = {
    "task": "goals.tasks.goals_evaluate_daily",
    "schedule": crontab(minute=10, hour=0),
}
# Monday 00:30, before anyone starts the week: open commitments from past weeks carry over.
BEAT_SCHEDULE["goals-commitments-carry-over"] = {
    "task": "goals.tasks.commitments_carry_over",
    "schedule": crontab(minute=30, hour=0, day_of_week="mon"),
}
# Monday 07:00: the weekly digest (reps: goals, pacing, commitments; managers: goals at risk).
BEAT_SCHEDULE["goals-weekly-digests"] = {
    "task": "goals.tasks.goals_weekly_digests",
    "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
}


# --- Reviews and recognition ------------------------------------------------------
# (entries added later)
# Nightly at 01:00, after the rollup (00:20) has the day just ended: raise early flags of drift
# (reviews.drift). Idempotent: keyed per rep, rule and week.
BEAT_SCHEDULE["reviews-drift-flags-nightly"] = {
    "task": "reviews.tasks.drift_flags_nightly",
    "schedule": crontab(minute=0, hour=1),
}
# Monday 07:15, after the goals digest: each manager's one weekly digest of new flags.
BEAT_SCHEDULE["reviews-drift-digests-weekly"] = {
    "task": "reviews.tasks.drift_digests_weekly",
    "schedule": crontab(minute=15, hour=7, day_of_week="mon"),
}
