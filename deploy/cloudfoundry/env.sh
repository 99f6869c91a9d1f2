# Sourced before each process starts on Cloud Foundry: the bound services in VCAP_SERVICES become the
# environment variables the app reads. Variables already set (cf set-env) win.
# shellcheck shell=sh
if [ -n "${VCAP_SERVICES:-}" ]; then
  eval "$(python3 - <<'PY'
import json
import os
import shlex
from urllib.parse import quote

services = json.loads(os.environ["VCAP_SERVICES"])
found = {}


def first(*labels):
    for label in labels:
        for service in services.get(label, []):
            return service.get("credentials", {})
    return None


db = first("aws-rds", "postgres", "postgresql")
if db:
    found["DATABASE_URL"] = db.get("uri") or "postgres://{username}:{password}@{host}:{port}/{db_name}".format(
        **{**db, "password": quote(db.get("password", ""), safe="")}
    )
redis = first("aws-elasticache-redis", "redis")
if redis:
    uri = redis.get("uri") or "rediss://:{}@{}:{}".format(quote(redis.get("password", ""), safe=""), redis["host"], redis["port"])
    tls = "?ssl_cert_reqs=required" if uri.startswith("rediss://") else ""  # Celery insists on it for TLS
    found["CELERY_BROKER_URL"] = uri.rstrip("/") + "/0" + tls
    found["REDIS_URL"] = uri.rstrip("/") + "/1" + tls
s3 = first("s3")
if s3:
    found.update(
        AWS_STORAGE_BUCKET_NAME=s3.get("bucket", ""),
        AWS_ACCESS_KEY_ID=s3.get("access_key_id", ""),
        AWS_SECRET_ACCESS_KEY=s3.get("secret_access_key", ""),
        AWS_S3_REGION_NAME=s3.get("region", ""),
    )
    if s3.get("endpoint"):
        found["AWS_S3_ENDPOINT_URL"] = "https://" + s3["endpoint"].removeprefix("https://")
for name, value in found.items():
    if value and not os.environ.get(name):
        print(f"export {name}={shlex.quote(value)}")
PY
)"
fi
