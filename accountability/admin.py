from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accountability.models import Invitation, Membership, Team, User


@admin.register(User)
class AccountabilityUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Accountability", {"fields": ("role", "phone", "time_zone", "away_from", "away_until")}),
    )
    list_display = ["username", "first_name", "last_name", "role", "is_active", "away_until"]
    list_filter = ["role", "is_active", "is_superuser"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    raw_id_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "manager", "time_zone"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Raw rows; invitations are sent from settings/people/ (the link itself is never stored)."""

    list_display = ["user", "invited_by", "created_at", "sent_at", "expires_at", "accepted_at", "revoked_at"]
    raw_id_fields = ["user", "invited_by"]
