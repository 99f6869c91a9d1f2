#!/bin/sh
set -eu
case "${1:-s3}" in
  s3)
    # moto keeps objects in memory: a stand-in for an agency's object store, not a place to keep data.
    moto_server -H 0.0.0.0 -p "${S3_PORT:-9000}" &
    server=$!
    python3 - <<'PY'
import os
import time

import boto3

client = boto3.client(
    "s3",
    endpoint_url=f"http://127.0.0.1:{os.environ.get('S3_PORT', '9000')}",
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
)
for _ in range(100):
    try:
        client.list_buckets()
        break
    except Exception:  # noqa: BLE001 - not up yet
        time.sleep(0.2)
for bucket in os.environ.get("S3_BUCKETS", "challenge-cards").split(","):
    if bucket.strip():
        client.create_bucket(Bucket=bucket.strip())
        print(f"bucket {bucket.strip()} ready", flush=True)
PY
    wait "$server"
    ;;
  smtp)
    mkdir -p /var/mail/Maildir/tmp /var/mail/Maildir/new /var/mail/Maildir/cur
    exec python3 -m aiosmtpd -n -l "0.0.0.0:${SMTP_PORT:-1025}" -c aiosmtpd.handlers.Mailbox /var/mail/Maildir
    ;;
  *)
    exec "$@"
    ;;
esac
