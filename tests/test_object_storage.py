"""Evidence in S3-compatible object storage: a real S3 endpoint over HTTP (moto's server on 127.0.0.1).

Uploaded through the page, the file lands in the bucket (not on the web host's disk), downloads only
through the visibility-checked view, and the bucket holds no public grant; files already on local disk
move over with `migrate_files_to_storage`, which can run twice.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request

import boto3
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from moto.server import ThreadedMotoServer

from challenge_cards import services
from challenge_cards.models import Evidence
from notifications.testing import free_port

BUCKET = "cc-evidence"
KEYS = {"access_key": "cc-test-access", "secret_key": "cc-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def _object_storage(settings, endpoint: str) -> None:
    """What config/settings/base.py builds from AWS_STORAGE_BUCKET_NAME and friends (tests/test_settings.py)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                **KEYS,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 60,
                "file_overwrite": False,
            },
        },
    }


@pytest.mark.django_db
def test_evidence_round_trip_through_object_storage(
    client, settings, bucket, s3_endpoint, media_root, deputy, other_deputy, card
):
    _object_storage(settings, s3_endpoint)
    client.force_login(deputy)
    upload = SimpleUploadedFile("Hiring report.pdf", b"%PDF-1.4 hiring report", content_type="application/pdf")
    response = client.post(
        reverse("challenge_cards:evidence_add", args=[card.pk]), {"title": "October hiring", "file": upload}
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    # In the bucket, under the random name, and not on this host's disk.
    stored = bucket.get_object(Bucket=BUCKET, Key=evidence.file.name)
    assert stored["Body"].read() == b"%PDF-1.4 hiring report"
    assert not any(media_root.rglob("*"))
    # Private: no grant to everyone, and no plain URL answers.
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=evidence.file.name)["Grants"]
    assert all("URI" not in grant["Grantee"] for grant in grants)
    # Streamed back through the checked view to who may see the card, and to nobody else.
    url = reverse("challenge_cards:evidence_download", args=[evidence.pk])
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 hiring report"
    assert 'filename="Hiring report.pdf"' in download["Content-Disposition"]
    assert "Location" not in download  # streamed, not a redirect to the bucket
    client.force_login(other_deputy)
    assert client.get(url).status_code == 404
    # Any URL the storage makes is signed and expires within a minute.
    signed = default_storage.url(evidence.file.name)
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=60" in signed


@pytest.mark.django_db
def test_migrate_files_to_storage_copies_local_files_once(settings, bucket, s3_endpoint, media_root, deputy, card):
    # Two files uploaded while the storage was the local disk, and one the disk has lost.
    first = services.evidence_add(
        actor=deputy, card=card, title="Plan", file=SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan")
    )
    second = services.evidence_add(
        actor=deputy, card=card, title="Data", file=SimpleUploadedFile("data.csv", b"month,hires\n10,42\n")
    )
    lost = services.evidence_add(
        actor=deputy, card=card, title="Lost", file=SimpleUploadedFile("lost.pdf", b"%PDF-1.4 lost")
    )
    (media_root / lost.file.name).unlink()
    assert (media_root / first.file.name).is_file()

    _object_storage(settings, s3_endpoint)
    out, err = io.StringIO(), io.StringIO()
    call_command("migrate_files_to_storage", source=str(media_root), stdout=out, stderr=err, verbosity=0)
    assert "copied: 2, already there: 0, missing locally: 1" in out.getvalue()
    assert "1 files the database names are not under" in err.getvalue()
    keys = {item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {first.file.name, second.file.name}
    assert bucket.get_object(Bucket=BUCKET, Key=second.file.name)["Body"].read() == b"month,hires\n10,42\n"

    # Again: nothing copied twice.
    out = io.StringIO()
    call_command("migrate_files_to_storage", source=str(media_root), stdout=out, stderr=io.StringIO(), verbosity=0)
    assert "copied: 0, already there: 2, missing locally: 1" in out.getvalue()
    # The evidence opens from the bucket as the database names it.
    with Evidence.objects.get(pk=first.pk).file.open("rb") as handle:
        assert handle.read() == b"%PDF-1.4 plan"


def test_the_bucket_is_a_real_http_endpoint_that_refuses_anonymous_reads(bucket, s3_endpoint):
    bucket.put_object(Bucket=BUCKET, Key="evidence/x.pdf", Body=b"secret")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{s3_endpoint}/{BUCKET}/evidence/x.pdf", timeout=5)
    assert refused.value.code == 403
