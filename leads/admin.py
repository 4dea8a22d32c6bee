"""Django admin: configuration is editable; the timeline and follow-ups are read-only (append-only by design)."""

from django.contrib import admin

from leads.models import Activity, FollowUp, IntakeSource, Lead, TeamIntakeSettings


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "lead", "actor", "outcome"]
    list_filter = ["kind"]
    list_select_related = ["lead", "actor"]
    raw_id_fields = ["lead", "actor", "corrects"]
    date_hierarchy = "occurred_at"


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["lead", "owner", "due_at", "state", "done_at"]
    list_filter = ["state"]
    list_select_related = ["lead", "owner"]


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    """Leads change through the app (services write the timeline); the admin only looks."""

    list_display = ["name", "company", "team", "owner", "stage", "arrived_at"]
    list_filter = ["stage", "team", "channel"]
    search_fields = ["name", "company", "email", "phone"]
    list_select_related = ["team", "owner"]


@admin.register(IntakeSource)
class IntakeSourceAdmin(ReadOnlyAdmin):
    """Create and rotate tokens on the app's Intake sources page (the token is shown once there)."""

    list_display = ["name", "public_name", "team", "token_prefix", "is_active"]
    exclude = ["token_hash"]


@admin.register(TeamIntakeSettings)
class TeamIntakeSettingsAdmin(admin.ModelAdmin):
    list_display = ["team", "mode", "max_open_untouched", "last_assigned"]
    raw_id_fields = ["last_assigned"]
