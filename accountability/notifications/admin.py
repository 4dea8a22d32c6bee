from django.contrib import admin

from accountability.notifications.models import (
    ChatWebhook,
    Delivery,
    Notification,
    NotificationPreference,
    SmsMessage,
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "recipient__username"]
    raw_id_fields = ["recipient"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "address", "state", "attempts", "sent_at", "failed_at"]
    list_filter = ["channel", "state"]
    raw_id_fields = ["notification"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "email", "sms", "chat"]
    raw_id_fields = ["user"]


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "body"]


@admin.register(ChatWebhook)
class ChatWebhookAdmin(admin.ModelAdmin):
    # The URL is a secret: listed masked; the pages (not the admin) are where hooks are set.
    list_display = ["__str__", "service", "masked_url", "updated_at", "last_error"]
    exclude = ["url"]
    readonly_fields = ["masked_url"]
    raw_id_fields = ["team", "user", "updated_by"]
