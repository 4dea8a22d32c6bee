from django.contrib import admin

from reviews.models import DriftFlag, DriftSettings


@admin.register(DriftSettings)
class DriftSettingsAdmin(admin.ModelAdmin):
    """The drift rules' thresholds: one row (id 1)."""

    def has_add_permission(self, request):
        return not DriftSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1  # a single settings row, whatever the admin does
        super().save_model(request, obj, form, change)


@admin.register(DriftFlag)
class DriftFlagAdmin(admin.ModelAdmin):
    list_display = ["rep", "rule", "week", "state", "raised_at"]
    list_filter = ["rule", "state"]
    readonly_fields = [f.name for f in DriftFlag._meta.fields]

    def has_add_permission(self, request):
        return False
