#!/bin/sh
# Writes nginx.conf from the template and the environment, then runs nginx in the foreground.
#   UPSTREAM_SERVERS      web containers, space separated        web1:8000 web2:8000
#   LISTEN_PORT           port nginx listens on in the container  8080
#   FORWARDED_PROTO       X-Forwarded-Proto sent to the app: $scheme, or https when TLS ends in front
#   CLIENT_MAX_BODY_SIZE  largest request body (evidence uploads are up to 10 MB)   12m
#   PROXY_READ_TIMEOUT    seconds to wait for the app's answer   60s
set -eu
mkdir -p /tmp/nginx
servers=""
for server in ${UPSTREAM_SERVERS:-web1:8000 web2:8000}; do
  servers="$servers        server $server max_fails=1 fail_timeout=${UPSTREAM_FAIL_TIMEOUT:-5s};
"
done
conf=/tmp/nginx/nginx.conf
awk -v servers="$servers" -v port="${LISTEN_PORT:-8080}" -v proto="${FORWARDED_PROTO:-\$scheme}" \
    -v body="${CLIENT_MAX_BODY_SIZE:-12m}" -v read_timeout="${PROXY_READ_TIMEOUT:-60s}" '
  { gsub(/@UPSTREAM_SERVERS@/, servers); gsub(/@LISTEN_PORT@/, port); gsub(/@FORWARDED_PROTO@/, proto);
    gsub(/@CLIENT_MAX_BODY_SIZE@/, body); gsub(/@PROXY_READ_TIMEOUT@/, read_timeout); print }
' /etc/nginx/nginx.conf.template >"$conf"
nginx -t -q -c "$conf"
exec nginx -c "$conf" -g 'daemon off;'
