# Challenge Cards: one image for the web (gunicorn), the Celery worker and beat, and the migrate job.
#   DOCKER_BUILDKIT=0 docker build -t challenge-cards:local .      (or: make image)
#   docker run IMAGE web|worker|beat|migrate|manage ARGS...|check|healthcheck
# The base is local/debian:trixie (Debian 13, Python 3.13), made by scripts/build-image.sh with
# debootstrap; nothing is pulled from a registry. Written for the legacy builder: no RUN --mount.

ARG BASE_IMAGE=local/debian:trixie

# ---- Stage 1: wheels for every pinned requirement, installed into a virtual environment ---------------
FROM ${BASE_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# Extra packages for requirements that ship only an sdist needing a compiler (none today), e.g.
#   --build-arg BUILD_PACKAGES="gcc python3-dev libpq-dev"
ARG BUILD_PACKAGES=""
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates ${BUILD_PACKAGES} \
 && rm -rf /var/lib/apt/lists/*

# Extra CA certificates (TLS-inspecting proxies) for this stage's downloads only: the folder is copied
# into this stage and never into the runtime stage. An empty folder (just its README) is fine.
ARG EXTRA_CA_CERTS=deploy/ca-certificates
COPY ${EXTRA_CA_CERTS}/ /usr/local/share/ca-certificates/extra/
RUN find /usr/local/share/ca-certificates/extra -type f ! -name '*.crt' -delete \
 && update-ca-certificates >/dev/null
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DEFAULT_TIMEOUT=120

RUN python3 -m venv /opt/venv
COPY requirements.txt /src/requirements.txt
# A hashed lock (any "--hash" in requirements.txt) is checked with --require-hashes when the files are
# downloaded. Wheels built here from an sdist cannot match a hash in the lock, so with a lock the
# install step takes exactly the checked set of wheels (--no-deps) instead of resolving again.
RUN set -eu; cd /src; \
    if grep -q -- '--hash' requirements.txt; then \
      /opt/venv/bin/pip wheel --require-hashes --wheel-dir /wheels -r requirements.txt; \
      /opt/venv/bin/pip install --no-index --find-links /wheels --no-deps /wheels/*.whl; \
    else \
      /opt/venv/bin/pip wheel --wheel-dir /wheels -r requirements.txt; \
      /opt/venv/bin/pip install --no-index --find-links /wheels -r requirements.txt; \
    fi; \
    /opt/venv/bin/pip check; \
    rm -rf /wheels; \
    /opt/venv/bin/python -m compileall -q /opt/venv >/dev/null || true

# ---- The app's files, without the build-only CA certificates -------------------------------------
# The runtime stage copies /src from here, so the certificates in the build context never reach it.
FROM ${BASE_IMAGE} AS source
COPY . /src
RUN rm -rf /src/deploy/ca-certificates

# ---- Stage 2: the runtime ---------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# python3: the interpreter the venv was made with (same base, same package).
# WeasyPrint (briefing packet PDFs): Pango and its FreeType backend, HarfBuzz's subsetter, fontconfig
# and fonts (DejaVu and Liberation, metric-compatible with Arial/Times/Courier).
# ca-certificates: Debian's public CAs for SMTP/S3/webhooks over TLS. tini: PID 1 that forwards
# signals and reaps children (Celery's pool, gunicorn's workers).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig \
      fonts-dejavu-core fonts-liberation \
      ca-certificates tini \
 && fc-cache -f \
 && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/dpkg.log /var/log/apt

RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    CC_VAR_DIR=/app/var \
    XDG_CACHE_HOME=/tmp/.cache \
    MEDIA_ROOT=/app/var/media \
    PORT=8000 \
    HEALTHCHECK_PATH=/healthz

WORKDIR /app
COPY --from=source /src /app
# Static files are collected once, here, with throw-away values that only this RUN sees (production
# settings refuse to load without them; nothing is connected to).
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@127.0.0.1:1/build CELERY_BROKER_URL=redis://127.0.0.1:1/0 \
    REDIS_URL=redis://127.0.0.1:1/1 \
    python3 manage.py collectstatic --noinput -v0 \
 && python3 -m compileall -q /app >/dev/null \
 && install -d -o app -g app /app/var /app/var/media /app/var/mail \
 && chmod 0755 /app/deploy/entrypoint.sh

USER app
EXPOSE 8000
ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/entrypoint.sh"]
CMD ["web"]
