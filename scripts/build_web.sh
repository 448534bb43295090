#!/usr/bin/env bash
# Rebuild the front-end bundle (runtime/web/static/playground.{js,css} and console.{js,css}) from web/.
# Needs Node and npm (developers only: the bundle is committed and shipped in the Python package).
#   scripts/build_web.sh            install the locked packages (npm ci) and write the bundle
#   scripts/build_web.sh --check    build into a temporary directory and fail if it differs
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  node build.mjs "$tmp" > /dev/null
  for f in playground.js playground.css console.js console.css; do
    if ! cmp -s "$tmp/$f" "../runtime/web/static/$f"; then
      echo "runtime/web/static/$f is stale: run scripts/build_web.sh and commit it" >&2
      exit 1
    fi
  done
  echo "the committed bundle matches web/"
else
  node build.mjs
fi
