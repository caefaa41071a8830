#!/usr/bin/env bash
# Installs the pinned Deno (version in .deno-version) from the npm registry into .tools/
# on first use, and prints the path of its binary. Sourced by ./secmqtt, scripts/test.sh and .ci/run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(tr -d '[:space:]' < "$root/.deno-version")"
deno="$root/.tools/node_modules/.bin/deno"
if [ ! -x "$deno" ] || ! "$deno" --version 2>/dev/null | grep -q "^deno $version "; then
  echo "secmqtt: installing Deno $version from npm into .tools/ (first run only)" >&2
  npm install --silent --no-audit --no-fund --no-save --prefix "$root/.tools" "deno@$version" >&2
fi
echo "$deno"
