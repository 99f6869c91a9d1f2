#!/bin/sh
# A Docker CLI plugin that makes `docker compose ...` run Debian's docker-compose (1.29), for machines
# whose docker client has no Compose v2 plugin. scripts/build-image.sh installs it as
# /usr/local/lib/docker/cli-plugins/docker-compose only when `docker compose` does not work.
if [ "${1:-}" = docker-cli-plugin-metadata ]; then
  printf '%s\n' '{"SchemaVersion":"0.1.0","Vendor":"Challenge Cards","Version":"1.29-shim","ShortDescription":"Debian docker-compose as docker compose"}'
  exit 0
fi
[ "${1:-}" = compose ] && shift
exec /usr/bin/docker-compose "$@"
