from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = "Agencies and people"


class OmbAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with OmbAdminSite as the default site (the OMB role decides who may use it).

    Named in INSTALLED_APPS instead of django.contrib.admin; not the agencies app's own config.
    """

    default = False
    default_site = "agencies.sites.OmbAdminSite"
