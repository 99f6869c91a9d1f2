"""Vendored USWDS assets survive collectstatic with a manifest: every url() and source map resolves."""

from django.core.management import call_command
from django.test import override_settings

MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


def test_collectstatic_with_the_manifest_storage(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=MANIFEST):
        call_command("collectstatic", "--noinput", verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    for asset in ("uswds/css/uswds.min.css", "uswds/js/uswds.min.js", "css/app.css", "uswds/img/us_flag_small.png"):
        assert f'"{asset}"' in manifest
