#!/usr/bin/env bash
# `make sbom`: a CycloneDX SBOM (JSON) of the runtime lock, requirements.txt: every package that
# production installs, with its version, package URL and the hashes the lock accepts. Needs no network.
# A lock file lists packages, not who needs whom, so the SBOM has no dependency graph; cyclonedx-py's
# warning saying so is silenced.
# Usage: scripts/sbom.sh [OUTPUT]   (default var/sbom.cdx.json)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-var/sbom.cdx.json}"
mkdir -p "$(dirname "$out")"
PYTHONWARNINGS="ignore::UserWarning:cyclonedx.model.bom" \
  .venv/bin/cyclonedx-py requirements --pyproject pyproject.toml --output-format JSON --output-reproducible \
  --output-file "$out" requirements.txt
echo "==> CycloneDX SBOM of the runtime lock (requirements.txt) written to $out"
