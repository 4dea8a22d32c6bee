from django.contrib import admin

from leads.sla.models import BusinessHours, Holiday, SlaClock, SlaNotice, SlaPolicy


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Read-only here: policies are changed on /sla/policies/ (versioned, validated)."""

    list_display = ["__str__", "version", "first_contact_minutes", "escalation_grace_minutes", "updated_at"]
    inlines = [BusinessHoursInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "team"]


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "due_at", "state", "next_step", "next_at", "escalated_at", "policy_version"]
    list_filter = ["kind", "state"]
    raw_id_fields = ["lead", "follow_up"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(SlaNotice)
class SlaNoticeAdmin(admin.ModelAdmin):
    list_display = ["lead", "step", "recipient", "state", "scheduled_at", "finished_at", "reason"]
    list_filter = ["step", "state"]
    raw_id_fields = ["lead", "clock", "recipient"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
