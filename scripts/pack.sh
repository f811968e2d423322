#!/usr/bin/env bash
# npm run pack: builds both packages from their sources and writes exactly their two tarballs into
# dist/packages/ (what a host app installs, and what scripts/check-packages.sh and
# scripts/consumer-app.sh test). Each package builds with its own self-contained tsconfig.lib.json
# into libs/<package>/dist; the LICENSE is the repository's, copied in for npm pack only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/dist/packages"
cd "$ROOT"
rm -rf "$OUT"
mkdir -p "$OUT"
for lib in social-auth social-auth-testing; do
  dir="libs/$lib"
  rm -rf "$dir/dist"
  npx --no-install tsc -p "$dir/tsconfig.lib.json"
  cp LICENSE "$dir/LICENSE"
  trap 'rm -f "$ROOT/$dir/LICENSE"' EXIT
  npm pack "./$dir" --pack-destination "$OUT" --silent >/dev/null
  rm -f "$dir/LICENSE"
  trap - EXIT
done
ls -1 "$OUT"
