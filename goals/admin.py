from django.contrib import admin

from goals.models import CheckIn, Commitment, Goal, GoalEvent, GoalSettings


@admin.register(GoalSettings)
class GoalSettingsAdmin(admin.ModelAdmin):
    """The pacing thresholds: one row (id 1)."""

    list_display = ["__str__", "at_risk_below", "behind_below"]

    def has_add_permission(self, request):
        return not GoalSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1  # a single settings row, whatever the admin does
        super().save_model(request, obj, form, change)


class GoalEventInline(admin.TabularInline):
    model = GoalEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "actor", "changes", "comment", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    """Read-only here: goals change through the app, where every change is kept in the history."""

    list_display = ["title", "owner", "team", "metric", "target", "status", "outcome", "end_date"]
    list_filter = ["status", "outcome", "metric"]
    search_fields = ["title", "owner__username", "team__name"]
    inlines = [GoalEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ["text", "owner", "week_start", "status"]
    list_filter = ["status", "week_start"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["goal", "value", "author", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
