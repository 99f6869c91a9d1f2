"""The default rules: deputy secretaries and delegates 7 and 1 business days before, OMB admins 2."""

from django.db import migrations

DEFAULTS = [("meeting_reminder", 7), ("meeting_reminder", 1), ("stale_cards", 2)]


def add_defaults(apps, schema_editor):
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    NotificationSettings = apps.get_model("notifications", "NotificationSettings")
    for rule, days in DEFAULTS:
        ReminderRule.objects.get_or_create(rule=rule, business_days_before=days)
    NotificationSettings.objects.get_or_create(pk=1)


def remove_defaults(apps, schema_editor):
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    for rule, days in DEFAULTS:
        ReminderRule.objects.filter(rule=rule, business_days_before=days).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_notifications_inbox_rules_webhooks")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
