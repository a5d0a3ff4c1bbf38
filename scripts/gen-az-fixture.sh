#!/bin/sh
# Regenerates tests/fixtures/az-commands.json from the real Azure CLI's help: the options each
# `az` command acr-doctor prints accepts. Installs azure-cli into a throwaway venv unless AZ
# names an `az` to use. Tests read only the committed fixture; they never need az.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${AZ:-}" ]; then
    venv=${AZ_VENV:-$(mktemp -d)/venv}
    [ -x "$venv/bin/az" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q azure-cli; }
    AZ="$venv/bin/az"
fi
# A private config dir: no login, no telemetry, nothing of the user's read or written.
AZURE_CONFIG_DIR=$(mktemp -d)
AZURE_CORE_COLLECT_TELEMETRY=false
export AZ AZURE_CONFIG_DIR AZURE_CORE_COLLECT_TELEMETRY
python3 "$root/scripts/gen-az-fixture.py"
rm -rf "$AZURE_CONFIG_DIR"
