from django.contrib import admin

from accountability.expectations.models import Acknowledgement, Document, DocumentVersion


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "created_at"]


@admin.register(DocumentVersion)
class DocumentVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are written through the app's pages so the rules hold."""

    list_display = ["document", "number", "status", "is_current", "published_at"]
    list_filter = ["status", "is_current"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["user", "version", "acknowledged_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
