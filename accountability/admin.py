from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accountability.models import Membership, Team, User


@admin.register(User)
class AccountabilityUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Accountability", {"fields": ("role", "phone", "time_zone", "away_until")}))
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
