"""Admins configure recognition here: values, rules, awards, settings. Kudos are moderated on the
site (hide with a reason) so the audit trail and the giver's notice are never skipped."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from recognition import services
from recognition.models import (
    AutoKudos,
    AutoRule,
    Award,
    AwardWinner,
    CompanyValue,
    Kudos,
    KudosEvent,
    RecognitionSettings,
)


@admin.register(RecognitionSettings)
class RecognitionSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "org_feed_enabled", "monthly_allowance", "max_per_recipient_per_day", "leaderboard_mode"]

    def has_add_permission(self, request):
        return not RecognitionSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CompanyValue)
class CompanyValueAdmin(admin.ModelAdmin):
    list_display = ["name", "icon", "colour", "retired", "position"]
    list_editable = ["retired", "position"]
    actions = ["seed_from_expectations"]

    def has_delete_permission(self, request, obj=None):
        # A value on any kudos is retired, never deleted (the kudos keep it).
        if obj is not None and services.value_is_used(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        try:
            services.value_delete(actor=request.user, value=obj)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)

    def delete_queryset(self, request, queryset):
        for value in queryset:
            self.delete_model(request, value)

    @admin.action(description="Add the values of the current expectations document")
    def seed_from_expectations(self, request, queryset):
        created = services.values_seed(actor=request.user)
        self.message_user(request, f"{created} value(s) added.")


@admin.register(AutoRule)
class AutoRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "enabled", "requires_cosign", "params", "value"]
    list_editable = ["enabled", "requires_cosign"]
    readonly_fields = ["code"]

    def has_add_permission(self, request):
        return False  # one row per rule, created by the app

    def has_delete_permission(self, request, obj=None):
        return False


class AwardWinnerInline(admin.TabularInline):
    model = AwardWinner
    extra = 0
    readonly_fields = ["period_start", "period_end", "user", "team", "value", "note", "chosen_by", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Award)
class AwardAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "metric", "period", "team", "winner_kind", "active"]
    list_filter = ["kind", "period", "active"]
    inlines = [AwardWinnerInline]


@admin.register(Kudos)
class KudosAdmin(admin.ModelAdmin):
    list_display = ["id", "giver", "rule", "created_at", "hidden"]
    list_filter = ["hidden", "rule"]
    readonly_fields = [f.name for f in Kudos._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(KudosEvent)
class KudosEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "kudos_ref", "actor"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AutoKudos)
class AutoKudosAdmin(admin.ModelAdmin):
    list_display = ["created_at", "rule", "cause", "state"]
    list_filter = ["rule", "state"]
    readonly_fields = ["rule", "cause", "message", "lead", "goal", "data", "state", "kudos", "decided_by", "decided_at"]

    def has_add_permission(self, request):
        return False
