#!/usr/bin/env bash
# Checks what the packages' READMEs promise about installing them, on the tarballs of `npm run pack`,
# in scratch apps outside the repository (never this repository's node_modules):
#   1. each tarball holds built JavaScript, .d.ts, README, CHANGELOG and LICENSE, and no TypeScript
#      source, spec, source map or tsconfig;
#   2. for Nest 11 and Nest 12: the README's install command (only the required peers) resolves a
#      valid tree without @nestjs/swagger, @nestjs/event-emitter, @nestjs/jwt or @nestjs/passport,
#      and on Nest 11 without any ES-module-only @nestjs package; both packages require();
#      `@nest-social-auth/core/openapi` is refused by name until @nestjs/swagger is installed; a
#      CommonJS host app boots AuthModule on a fresh PostgreSQL database and answers over HTTP;
#   3. with the optional peers added (swagger, event-emitter) the tree is still valid, the openapi
#      entry point loads and the app boots again.
#
#   bash scripts/check-packages.sh              # packs first
#   PACKAGES_DIR=dist/packages bash scripts/check-packages.sh   # use tarballs already packed
#   KEEP=1 bash scripts/check-packages.sh       # keep the scratch directory
# Needs the npm registry and PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-packages.XXXXXX")
T0=$(date +%s)
DATABASES=()
PG=(psql -h 127.0.0.1 -U postgres -d postgres -qAtX)

cleanup() {
  for db in "${DATABASES[@]}"; do "${PG[@]}" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  if [[ -n "${KEEP:-}" ]]; then echo "check-packages: scratch directory kept at $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

step() { echo "== [$(($(date +%s) - T0))s] $*"; }
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
check() { local name=$1; shift; if "$@" >"$WORK/last.log" 2>&1; then pass "$name"; else fail "$name"; tail -n 20 "$WORK/last.log"; fi; }

# --- 1. The tarballs ---------------------------------------------------------------------------
if [[ -z "${PACKAGES_DIR:-}" ]]; then
  step "npm run pack"
  (cd "$ROOT" && npm run --silent pack)
  PACKAGES_DIR="$ROOT/dist/packages"
fi
PACKAGES_DIR=$(cd "$PACKAGES_DIR" && pwd)
mapfile -t TARBALLS < <(ls "$PACKAGES_DIR"/*.tgz)
[[ ${#TARBALLS[@]} -eq 2 ]] && pass "dist/packages holds exactly two tarballs" || fail "dist/packages holds exactly two tarballs (${TARBALLS[*]})"
CORE=$(ls "$PACKAGES_DIR"/nest-social-auth-core-*.tgz)
KIT=$(ls "$PACKAGES_DIR"/nest-social-auth-testing-*.tgz)

for tarball in "$CORE" "$KIT"; do
  name=$(basename "$tarball")
  tar tzf "$tarball" | sed 's#^package/##' | sort >"$WORK/$name.files"
  for required in package.json README.md CHANGELOG.md LICENSE dist/index.js dist/index.d.ts; do
    grep -qx "$required" "$WORK/$name.files" && pass "$name contains $required" || fail "$name contains $required"
  done
  stray=$(grep -E '(\.spec\.|\.map$|tsconfig|(^|/)src/)|\.ts$' "$WORK/$name.files" | grep -v '\.d\.ts$' || true)
  [[ -z "$stray" ]] && pass "$name has no TypeScript source, spec, source map or tsconfig" || fail "$name ships $(echo "$stray" | head -5 | tr '\n' ' ')"
  echo "   $name: $(wc -l <"$WORK/$name.files") files, $(du -k "$tarball" | cut -f1) KiB"
done
grep -qx 'dist/openapi/index.js' "$WORK/$(basename "$CORE").files" && pass "core ships the openapi entry point" || fail "core ships the openapi entry point"

# --- 2/3. A scratch app per Nest major ---------------------------------------------------------
esm_nest_packages() { # prints @nestjs packages published as ES modules
  local app=$1
  for pkg in "$app"/node_modules/@nestjs/*/package.json; do
    node -e 'const p=require(process.argv[1]); if (p.type==="module") console.log(p.name+"@"+p.version)' "$pkg"
  done
}
absent() { [[ ! -e "$1/node_modules/$2" ]]; }

for major in 11 12; do
  APP="$WORK/nest$major"
  mkdir -p "$APP"
  printf '{ "name": "nest%s-host", "version": "0.0.0", "private": true }\n' "$major" >"$APP/package.json"
  # The host's own Nest packages, as `nest new` installs them for this major.
  step "Nest $major: a host app (@nestjs/common, core, platform-express ^$major)"
  (cd "$APP" && npm i --no-audit --no-fund "@nestjs/common@^$major" "@nestjs/core@^$major" "@nestjs/platform-express@^$major" reflect-metadata rxjs >"$WORK/install-$major.log" 2>&1) \
    || { fail "Nest $major host install"; tail -n 30 "$WORK/install-$major.log"; continue; }
  # The core README's install command for this major (peers pinned to the major on Nest 11).
  pin=""; [[ $major == 11 ]] && pin="@^11"
  step "Nest $major: npm i <core tarball> @nestjs/typeorm$pin typeorm @nestjs/throttler pg, and the kit"
  if (cd "$APP" && npm i --no-audit --no-fund "$CORE" "@nestjs/typeorm$pin" typeorm @nestjs/throttler pg >>"$WORK/install-$major.log" 2>&1 \
      && npm i -D --no-audit --no-fund "$KIT" >>"$WORK/install-$major.log" 2>&1); then
    pass "Nest $major: install with the required peers only"
  else
    fail "Nest $major: install with the required peers only"; tail -n 30 "$WORK/install-$major.log"; continue
  fi
  grep -E '^npm (warn|WARN)' "$WORK/install-$major.log" | grep -v -E 'deprecated|EBADENGINE' | head -n 10 || true
  check "Nest $major: npm ls (every peer range satisfied)" bash -c "cd '$APP' && npm ls --all"
  echo "   installed: $(cd "$APP" && node -p "['@nestjs/core','@nestjs/typeorm','@nestjs/throttler','typeorm','class-validator','jose'].map(n=>{try{return n+' '+JSON.parse(require('fs').readFileSync('node_modules/'+n+'/package.json','utf8')).version}catch{return n+' -'}}).join(', ')")"
  case "$(cd "$APP" && node -p "require('@nestjs/core/package.json').version")" in
    "$major".*) pass "Nest $major: @nestjs/core is $major.x" ;;
    *) fail "Nest $major: @nestjs/core is $major.x" ;;
  esac
  for optional in @nestjs/swagger @nestjs/event-emitter @nestjs/jwt @nestjs/passport; do
    absent "$APP" "$optional" && pass "Nest $major: $optional not installed" || fail "Nest $major: $optional was installed"
  done
  if [[ $major == 11 ]]; then
    esm=$(esm_nest_packages "$APP")
    [[ -z "$esm" ]] && pass "Nest 11: no ES-module-only @nestjs package in the tree" || fail "Nest 11: ES-module-only packages in the tree: $esm"
  fi
  check "Nest $major: require('@nest-social-auth/core') exports AuthModule" \
    bash -c "cd '$APP' && node -e \"const a=require('@nest-social-auth/core'); if (typeof a.AuthModule!=='function') process.exit(1)\""
  check "Nest $major: require('@nest-social-auth/testing') exports FakeGoogle and FakeGitHub" \
    bash -c "cd '$APP' && node -e \"const k=require('@nest-social-auth/testing'); if (typeof k.FakeGoogle!=='function'||typeof k.FakeGitHub!=='function') process.exit(1)\""
  check "Nest $major: require('@nest-social-auth/core/openapi') without @nestjs/swagger names the missing package" \
    bash -c "cd '$APP' && node -e \"try { require('@nest-social-auth/core/openapi'); process.exit(1) } catch (e) { if (e.code !== 'MODULE_NOT_FOUND' || !/@nestjs\\/swagger/.test(e.message)) { console.error(e); process.exit(1) } }\""

  db="check_packages_${major}_$$"
  DATABASES+=("$db")
  "${PG[@]}" -c "CREATE DATABASE $db" >/dev/null
  cp "$ROOT/scripts/check-packages/boot-app.cjs" "$APP/boot-app.cjs"
  step "Nest $major: boot a host app (required peers only)"
  check "Nest $major: host app boots and answers (required peers only)" \
    bash -c "cd '$APP' && DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db timeout 120 node boot-app.cjs"
  cat "$WORK/last.log" | grep -E '^(PASS|FAIL|SKIP)' | sed 's/^/   /'

  step "Nest $major: add the optional peers"
  emitter="@nestjs/event-emitter@^$major"; [[ $major == 11 ]] && emitter="@nestjs/event-emitter@^3"
  if (cd "$APP" && npm i --no-audit --no-fund "@nestjs/swagger@^$major" "$emitter" >>"$WORK/install-$major.log" 2>&1); then
    pass "Nest $major: install @nestjs/swagger and @nestjs/event-emitter"
  else
    fail "Nest $major: install @nestjs/swagger and @nestjs/event-emitter"; tail -n 30 "$WORK/install-$major.log"; continue
  fi
  check "Nest $major: npm ls with the optional peers" bash -c "cd '$APP' && npm ls --all"
  if [[ $major == 11 ]]; then
    esm=$(esm_nest_packages "$APP")
    [[ -z "$esm" ]] && pass "Nest 11: still no ES-module-only @nestjs package" || fail "Nest 11: ES-module-only packages in the tree: $esm"
  fi
  check "Nest $major: require('@nest-social-auth/core/openapi') exports describeAuthRoutes" \
    bash -c "cd '$APP' && node -e \"if (typeof require('@nest-social-auth/core/openapi').describeAuthRoutes!=='function') process.exit(1)\""
  "${PG[@]}" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null
  "${PG[@]}" -c "CREATE DATABASE $db" >/dev/null
  check "Nest $major: host app boots and answers (with the optional peers)" \
    bash -c "cd '$APP' && DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db timeout 120 node boot-app.cjs"
done

echo "check-packages: took $(($(date +%s) - T0))s"
echo "check-packages: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
