#!/usr/bin/env bash
# `make image`: build the Challenge Cards container image from a clean machine, and the images the
# compose topology needs (nginx, PostgreSQL, Redis, the S3 object store), without pulling anything.
#
#   1. installs docker.io, debootstrap and docker-compose with apt if they are missing (root);
#   2. starts dockerd if no engine answers (log: var/dockerd.log);
#   3. builds the base image local/debian:trixie with debootstrap from the mirror apt already uses,
#      if it is absent;
#   4. builds the app image (IMAGE, default challenge-cards:local) and the service images under deploy/.
#
# Idempotent: a second run finds everything in place and lets Docker's layer cache do the rest.
# Settings (environment):
#   IMAGE               app image tag                               challenge-cards:local
#   BASE_IMAGE          base image tag                              local/debian:trixie
#   DEBIAN_MIRROR       mirror for debootstrap and the images' apt   read from apt's sources
#   EXTRA_CA_CERTS_DIR  folder of extra *.crt for the build stages   /usr/local/share/ca-certificates
#   SERVICE_IMAGES      0 to build only the app image                1
#   DOCKER_BUILD_ARGS   more arguments for every docker build        (none)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
IMAGE="${IMAGE:-challenge-cards:local}"
BASE_IMAGE="${BASE_IMAGE:-local/debian:trixie}"
EXTRA_CA_CERTS_DIR="${EXTRA_CA_CERTS_DIR:-/usr/local/share/ca-certificates}"
SERVICE_IMAGES="${SERVICE_IMAGES:-1}"
export DOCKER_BUILDKIT=0  # the legacy builder: buildx is not packaged for Debian bookworm
mkdir -p var
start=$(date +%s)
say() { echo "==> $*"; }

# 1. Tools.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing ${missing[*]}: sudo apt-get install -y docker.io debootstrap docker-compose" >&2
    exit 1
  fi
  say "Installing ${missing[*]} with apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. The engine.
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "No Docker engine answers and only root can start dockerd here." >&2
    exit 1
  fi
  say "Starting dockerd (log: var/dockerd.log)"
  setsid nohup dockerd >"$ROOT/var/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see var/dockerd.log" >&2; tail -20 var/dockerd.log >&2; exit 1; }
fi

# `docker compose` as well as `docker-compose`: a small CLI plugin runs Debian's docker-compose when the
# docker client has no Compose plugin of its own.
if ! docker compose version >/dev/null 2>&1 && [ -x /usr/bin/docker-compose ] && [ "$(id -u)" = 0 ]; then
  install -D -m 0755 deploy/docker-compose-plugin.sh /usr/local/lib/docker/cli-plugins/docker-compose
  say "Installed /usr/local/lib/docker/cli-plugins/docker-compose (docker compose runs docker-compose)"
fi

# The Debian mirror apt already uses (deb822 .sources first, then one-line lists).
mirror_from_apt() {
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(https?|ftp|file):/) {print $i; exit}}' | grep -i debian | grep -v -- '-security' | head -1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(mirror_from_apt)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR%/}"

# 3. The base image.
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  say "Building $BASE_IMAGE with debootstrap --variant=minbase trixie from $DEBIAN_MIRROR"
  rootfs="$ROOT/var/rootfs-trixie"
  rm -rf "$rootfs"
  debootstrap --variant=minbase trixie "$rootfs" "$DEBIAN_MIRROR" >"$ROOT/var/debootstrap.log" 2>&1 \
    || { tail -20 "$ROOT/var/debootstrap.log" >&2; exit 1; }
  # Updates and security updates too; the security archive sits beside the main one unless apt says otherwise.
  security="${DEBIAN_SECURITY_MIRROR:-${DEBIAN_MIRROR%/debian}/debian-security}"
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $DEBIAN_MIRROR trixie main
deb $DEBIAN_MIRROR trixie-updates main
deb $security trixie-security main
SOURCES
  cat >"$rootfs/etc/apt/apt.conf.d/90container" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
APT
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log "$rootfs"/tmp/*
  tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  say "$BASE_IMAGE: $(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
fi

# Extra CA certificates for the build stages' own downloads (pip behind a TLS-inspecting proxy). They go
# into a folder inside the build context that git and the final image never see (deploy/ca-certificates/).
ca_dir="$ROOT/deploy/ca-certificates"
mkdir -p "$ca_dir"
find "$ca_dir" -maxdepth 1 -name '*.crt' -delete
if [ -d "$EXTRA_CA_CERTS_DIR" ]; then
  find "$EXTRA_CA_CERTS_DIR" -name '*.crt' -exec cp {} "$ca_dir/" \;
fi
ncerts=$(find "$ca_dir" -maxdepth 1 -name '*.crt' | wc -l)

# Proxy settings of this machine, passed on to the builds (Docker passes these build args without
# declaring them in the Dockerfile and keeps them out of the image's history).
proxy_args=()
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!var:-}" ] && proxy_args+=(--build-arg "$var=${!var}")
done

# The legacy builder's deprecation notice is left out of the output; build errors are not.
# shellcheck disable=SC2086
build() {
  docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" "${proxy_args[@]}" ${DOCKER_BUILD_ARGS:-} "$@" 2>&1 >/dev/null \
    | { grep -v -e '^DEPRECATED: The legacy builder' -e 'BuildKit is currently disabled' -e '^ *environment-variable\.$' \
          -e '^$' >&2 || true; }
}

# 4. The app image and the service images.
say "Building $IMAGE ($ncerts extra CA certificate(s) for the build stages)"
t=$(date +%s)
build -t "$IMAGE" -f Dockerfile .
say "$IMAGE built in $(( $(date +%s) - t )) s: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

if [ "$SERVICE_IMAGES" = 1 ]; then
  for service in nginx postgres redis s3; do
    say "Building challenge-cards-$service:local"
    build -t "challenge-cards-$service:local" -f "deploy/$service/Dockerfile" deploy
  done
fi
say "Images ready in $(( $(date +%s) - start )) s"
