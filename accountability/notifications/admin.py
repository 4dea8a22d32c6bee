from django.contrib import admin

from accountability.notifications.models import Delivery, Notification, NotificationPreference, SmsMessage


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
    list_display = ["user", "kind", "email", "sms"]
    raw_id_fields = ["user"]


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "body"]
