#!/usr/bin/env bash
# The packages as an outside team gets them: packs @nest-social-auth/core and
# @nest-social-auth/testing, scaffolds a stock `nest new` (NestJS 11) app in a fresh directory
# outside the repository, installs only the two tarballs and the peers of the core README's
# Install section from the npm registry, adds the app's code (scripts/consumer-app/), then runs
# the app's own `npm run build`, `tsc --noEmit` (also with skipLibCheck off, for our .d.ts),
# `npm test` and `npm run test:e2e` (stock Jest configs) against a fresh PostgreSQL database, and
# starts the built app once (`node dist/main`).
#
#   bash scripts/consumer-app.sh                         # npm run pack, then everything
#   bash scripts/consumer-app.sh --core a.tgz --testing b.tgz   # use these tarballs, no pack
#   bash scripts/consumer-app.sh --platform fastify      # the HTTP platform: express (default) or fastify
#   KEEP=1 bash scripts/consumer-app.sh                  # keep the app directory and the database
#
# Environment: CONSUMER_APP_PG_URL (default postgres://postgres@127.0.0.1:5432, a superuser that
# may CREATE DATABASE), CONSUMER_APP_PEERS (overrides the peer list read from the core README).
# Needs node, npm (registry access), tar and psql. Exits non-zero when any check fails; the last
# line is "consumer-app: N passed, N failed".
#
# The app's files: scripts/consumer-app/scaffold (what `nest new` writes, verbatim from
# @nestjs/schematics 11's application template), scripts/consumer-app/app (the team's code on
# top) and scripts/consumer-app/platforms/<platform> (main.ts and the e2e bootstrap).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/scripts/consumer-app"
T0=$(date +%s)

PLATFORM=express
CORE_TGZ=""
TESTING_TGZ=""
PG_URL=${CONSUMER_APP_PG_URL:-postgres://postgres@127.0.0.1:5432}
# Peers to install next to the core tarball when its README has no Install section to read (that
# also counts as a failure): the README's list as of 0.1.0.
DEFAULT_PEERS=("@nestjs/typeorm@^11" typeorm @nestjs/throttler pg "@nestjs/config@^4")

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --platform) PLATFORM=${2:?--platform needs a value}; shift 2 ;;
    --platform=*) PLATFORM=${1#*=}; shift ;;
    --core) CORE_TGZ=${2:?--core needs a tarball}; shift 2 ;;
    --testing) TESTING_TGZ=${2:?--testing needs a tarball}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "consumer-app: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$PLATFORM" in
  express | fastify) ;;
  *) echo "consumer-app: --platform $PLATFORM is not supported (express or fastify)" >&2; exit 2 ;;
esac
if [[ -n "$CORE_TGZ" || -n "$TESTING_TGZ" ]]; then
  [[ -f "$CORE_TGZ" && -f "$TESTING_TGZ" ]] || { echo "consumer-app: --core and --testing must both name existing tarballs" >&2; exit 2; }
  CORE_TGZ=$(cd "$(dirname "$CORE_TGZ")" && pwd)/$(basename "$CORE_TGZ")
  TESTING_TGZ=$(cd "$(dirname "$TESTING_TGZ")" && pwd)/$(basename "$TESTING_TGZ")
fi

# --- bookkeeping ------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/consumer-app.XXXXXX)
APP="$WORK/app"
LOGS="$WORK/logs"
mkdir -p "$APP" "$LOGS"
DB="consumer_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
DB_CREATED=""
SMOKE_PID=""

PASSED=0
FAILED=0
SUMMARY=()
declare -A VERSIONS=()
since() { echo "$(($(date +%s) - $1))s"; }
step() { echo; echo "== [$(since "$T0")] $*"; }
pass() { PASSED=$((PASSED + 1)); SUMMARY+=("PASS  $*"); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); SUMMARY+=("FAIL  $*"); echo "FAIL $*"; }
# Shows the end of a log after a failure (never secrets: these logs hold none).
show() { echo "---- last ${2:-40} lines of $1"; tail -n "${2:-40}" "$1" | sed 's/^/    /'; echo "----"; }

psql_admin() { psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -qAt "$@"; }

cleanup() {
  local rc=$?
  [[ -n "$SMOKE_PID" ]] && kill "$SMOKE_PID" 2>/dev/null || true
  if [[ "${KEEP:-}" == 1 ]]; then
    echo "consumer-app: kept the app at $APP (logs: $LOGS)${DB_CREATED:+ and the database $PG_URL/$DB}"
  else
    if [[ -n "$DB_CREATED" ]]; then
      psql_admin -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || echo "consumer-app: could not drop database $DB" >&2
    fi
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
  echo
  echo "================ consumer app (@nest-social-auth packages, NestJS 11, $PLATFORM) ================"
  local line
  for line in "${SUMMARY[@]}"; do echo "$line"; done
  if [[ ${#VERSIONS[@]} -gt 0 ]]; then
    echo "installed:$(for k in "${!VERSIONS[@]}"; do printf ' %s@%s' "$k" "${VERSIONS[$k]}"; done | tr ' ' '\n' | sort | tr '\n' ' ')"
  fi
  echo "node $(node -v), npm $(npm -v); took $(since "$T0")"
  echo "consumer-app: $PASSED passed, $FAILED failed"
  if [[ $FAILED -eq 0 ]]; then exit 0; else exit 1; fi
}

# Runs a command in the app directory with a time limit, its output in a log; true when it passed.
run_in_app() {
  local log=$1 limit=$2
  shift 2
  (cd "$APP" && timeout "$limit" "$@") >"$log" 2>&1
}

# --- 0. prerequisites -------------------------------------------------------------------------
step "prerequisites"
for tool in node npm tar psql timeout; do
  command -v "$tool" >/dev/null || { fail "prerequisite: $tool is not installed"; finish; }
done
if ! psql_admin -c 'select 1' >/dev/null 2>"$LOGS/psql.log"; then
  fail "PostgreSQL reachable at $PG_URL"; show "$LOGS/psql.log" 5; finish
fi
# The app must resolve nothing from outside itself: no node_modules above it, no NODE_PATH.
unset NODE_PATH
dir=$WORK
while [[ "$dir" != / ]]; do
  dir=$(dirname "$dir")
  if [[ -e "$dir/node_modules" ]]; then fail "no node_modules above the app directory ($dir/node_modules exists)"; finish; fi
done
case "$WORK" in "$ROOT"/*) fail "app directory outside the repository ($WORK)"; finish ;; esac
echo "app directory $APP, database $DB on $PG_URL, platform $PLATFORM"

# --- 1. the two tarballs ----------------------------------------------------------------------
if [[ -z "$CORE_TGZ" ]]; then
  step "npm run pack (in the repository)"
  T=$(date +%s)
  if (cd "$ROOT" && npm run pack) >"$LOGS/pack.log" 2>&1; then
    mapfile -t TARBALLS < <(find "$ROOT/dist/packages" -maxdepth 1 -name '*.tgz' | sort)
    CORE_TGZ=$(printf '%s\n' "${TARBALLS[@]}" | grep -- '-core-' || true)
    TESTING_TGZ=$(printf '%s\n' "${TARBALLS[@]}" | grep -- '-testing-' || true)
    if [[ ${#TARBALLS[@]} -eq 2 && -f "$CORE_TGZ" && -f "$TESTING_TGZ" ]]; then
      pass "npm run pack wrote two tarballs to dist/packages ($(since "$T"))"
    else
      fail "npm run pack wrote exactly two tarballs (…-core-… and …-testing-…) to dist/packages; found: ${TARBALLS[*]:-none}"
      finish
    fi
  else
    fail "npm run pack ($(since "$T"))"
    show "$LOGS/pack.log" 30
    finish
  fi
fi
for tgz in "$CORE_TGZ" "$TESTING_TGZ"; do
  case "$tgz" in "$CORE_TGZ") want=@nest-social-auth/core ;; *) want=@nest-social-auth/testing ;; esac
  files=$(tar -tzf "$tgz")
  # name@version, then the files package.json names as main and types (relative to package/).
  read -r name main types < <(tar -xOzf "$tgz" package/package.json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const p = JSON.parse(s), norm = (f) => "package/" + String(f || "index.js").replace(/^\.\//, "");
      console.log(`${p.name}@${p.version} ${norm(p.main)} ${norm(p.types || p.typings || String(p.main || "index.js").replace(/\.js$/, ".d.ts"))}`);
    })')
  echo "$(basename "$tgz"): $name, $(grep -c . <<<"$files") files, $(du -k "$tgz" | cut -f1) KiB"
  if [[ "${name%@*}" == "$want" ]] && grep -qx "$main" <<<"$files" && grep -qx "$types" <<<"$files"; then
    pass "$(basename "$tgz") is $want with its main (${main#package/}) and types (${types#package/})"
  else
    fail "$(basename "$tgz") is $want with its main and types (name: $name, main: ${main#package/}, types: ${types#package/})"
  fi
done

# Peers: the core README's Install section, as a new user would copy it.
PEERS=()
PEER_SOURCE=""
if [[ -n "${CONSUMER_APP_PEERS:-}" ]]; then
  read -r -a PEERS <<<"$CONSUMER_APP_PEERS"
  PEER_SOURCE="CONSUMER_APP_PEERS"
elif tar -tzf "$CORE_TGZ" package/README.md >/dev/null 2>&1; then
  # The `npm i …`/`npm install …` lines of the first code block of the "Install…" section, except
  # the dev install (-D: the testing kit's); our own packages come from the tarballs.
  mapfile -t PEERS < <(tar -xOzf "$CORE_TGZ" package/README.md | awk '
    /^#+ / && !code { inside = ($0 ~ /^#+ +[Ii]nstall/) }
    inside && /^```/ { if (code) exit; code = 1; next }
    inside && code && /^(\$ )?npm (i|install|add) / {
      sub(/#.*/, ""); sub(/^\$ /, "")
      if ($0 ~ / (-D|--save-dev)( |$)/) next
      for (i = 3; i <= NF; i++) if ($i !~ /^-/ && $i !~ /^@nest-social-auth\//) print $i
    }')
  [[ ${#PEERS[@]} -gt 0 ]] && PEER_SOURCE="the core README's Install section"
fi
if [[ ${#PEERS[@]} -eq 0 ]]; then
  PEERS=("${DEFAULT_PEERS[@]}")
  PEER_SOURCE="the script's default list"
  fail "the core tarball's README.md has an Install section with an npm i line (using $PEER_SOURCE)"
fi
echo "peers (from $PEER_SOURCE): ${PEERS[*]}"

# --- 2. scaffold as `nest new consumer-app` (npm, not strict) -----------------------------------
step "scaffolding a stock NestJS 11 app (nest new) and npm install"
cp -R "$HERE/scaffold/." "$APP/"
find "$APP" -type f \( -name '*.json' -o -name '*.md' -o -name '*.ts' \) -exec sed -i \
  -e 's/<%= name %>/consumer-app/g' -e 's/<%= version %>/0.0.1/g' -e 's/<%= description %>//g' \
  -e 's/<%= author %>//g' -e 's/<%= strict %>/false/g' -e 's/<%= packageManager %>/npm/g' {} +
if grep -rl '<%' "$APP" >/dev/null; then fail "scaffold template fully substituted: $(grep -rl '<%' "$APP")"; finish; fi
T=$(date +%s)
if run_in_app "$LOGS/install-scaffold.log" 600 npm install --no-audit --no-fund; then
  pass "npm install of the stock nest new app ($(since "$T"))"
else
  fail "npm install of the stock nest new app ($(since "$T"))"; show "$LOGS/install-scaffold.log"; finish
fi

# --- 3. the packages: core + peers, testing kit as a dev dependency ----------------------------
step "npm i <core tarball> ${PEERS[*]}; npm i -D <testing tarball>"
T=$(date +%s)
if run_in_app "$LOGS/install-core.log" 600 npm install --no-audit --no-fund "$CORE_TGZ" "${PEERS[@]}" &&
  run_in_app "$LOGS/install-testing.log" 600 npm install --no-audit --no-fund -D "$TESTING_TGZ"; then
  pass "npm i of the two tarballs and the README's peers ($(since "$T"))"
else
  fail "npm i of the two tarballs and the README's peers ($(since "$T"))"
  show "$LOGS/install-core.log"; [[ -f "$LOGS/install-testing.log" ]] && show "$LOGS/install-testing.log"
  finish
fi
# Fastify: the adapter, pinned to the app's Nest line as the core README's Install section says.
# The stock @nestjs/platform-express stays: Nest's Fastify docs only add the adapter, and Nest uses
# the adapter main.ts passes.
FASTIFY_SPEC="@nestjs/platform-fastify@^11"
install_platform() {
  case "$PLATFORM" in
    express) return 0 ;; # the stock app already depends on @nestjs/platform-express
    fastify)
      # Read whole first: grep -q would stop early and tar's SIGPIPE would fail the pipeline.
      local readme
      readme=$(tar -xOzf "$CORE_TGZ" package/README.md 2>/dev/null || true)
      if grep -qF "npm i $FASTIFY_SPEC" <<<"$readme"; then
        pass "the core README's Install section names npm i $FASTIFY_SPEC for Fastify"
      else
        fail "the core README's Install section names npm i $FASTIFY_SPEC for Fastify (installing it anyway)"
      fi
      local t
      t=$(date +%s)
      if run_in_app "$LOGS/install-platform.log" 600 npm install --no-audit --no-fund "$FASTIFY_SPEC"; then
        pass "npm i $FASTIFY_SPEC ($(since "$t"))"
      else
        fail "npm i $FASTIFY_SPEC ($(since "$t"))"; show "$LOGS/install-platform.log"; finish
      fi
      ;;
  esac
}
install_platform

# npm's warnings (peer conflicts, deprecated packages, engines), one line each.
cat "$LOGS/install-scaffold.log" "$LOGS/install-core.log" "$LOGS/install-testing.log" $([[ -f "$LOGS/install-platform.log" ]] && echo "$LOGS/install-platform.log") | grep -E '^npm (warn|WARN)' | grep -v 'deprecated' | sort -u | head -n 20 || true

if run_in_app "$LOGS/npm-ls.log" 120 npm ls --all; then
  pass "npm ls: the dependency tree is valid (every peer range satisfied)"
else
  fail "npm ls: the dependency tree is valid"
  grep -E 'invalid|missing|ERR|UNMET' "$LOGS/npm-ls.log" | head -n 20 || true
fi

for pkg in @nest-social-auth/core @nest-social-auth/testing @nestjs/core @nestjs/common @nestjs/platform-express @nestjs/platform-fastify fastify \
  @nestjs/typeorm @nestjs/config @nestjs/throttler @nestjs/jwt @nestjs/passport @nestjs/testing typeorm pg jose jest ts-jest typescript; do
  v=$(cd "$APP" && node -p "require('./node_modules/$pkg/package.json').version" 2>/dev/null || echo "absent")
  VERSIONS[$pkg]=$v
done
echo "installed: $(for k in "${!VERSIONS[@]}"; do printf '%s@%s ' "$k" "${VERSIONS[$k]}"; done)"
# Nest 12 packages are ES modules: in a Nest 11 app, Jest (CommonJS) cannot load them.
esm=()
for pkg in @nestjs/core @nestjs/common @nestjs/platform-express @nestjs/platform-fastify @nestjs/typeorm @nestjs/config @nestjs/throttler @nestjs/jwt @nestjs/passport @nestjs/event-emitter; do
  [[ -f "$APP/node_modules/$pkg/package.json" ]] || continue
  if [[ $(cd "$APP" && node -p "require('./node_modules/$pkg/package.json').type || ''") == module ]]; then esm+=("$pkg@${VERSIONS[$pkg]:-?}"); fi
done
if [[ ${#esm[@]} -eq 0 ]]; then
  pass "every installed @nestjs package is CommonJS (NestJS 11 line)"
else
  fail "every installed @nestjs package is CommonJS (NestJS 11 line); ES-module (Nest 12) ones: ${esm[*]}"
fi
resolved=$(cd "$APP" && node -p "require.resolve('@nest-social-auth/core') + ' ' + require.resolve('@nest-social-auth/testing')")
if [[ "$resolved" == "$APP/node_modules/@nest-social-auth/core/"*" $APP/node_modules/@nest-social-auth/testing/"* ]]; then
  pass "the packages resolve from the app's own node_modules"
else
  fail "the packages resolve from the app's own node_modules ($resolved)"
fi

# --- 4. the app's code ------------------------------------------------------------------------
step "adding the app's code (members table, MemberUserStore, AuthModule, routes, e2e)"
cp -R "$HERE/app/." "$APP/"
cp -R "$HERE/platforms/$PLATFORM/." "$APP/"
(cd "$APP" && find src test -type f | sort | sed 's/^/  /')

if psql_admin -c "CREATE DATABASE \"$DB\"" >"$LOGS/createdb.log" 2>&1; then
  DB_CREATED=1
else
  fail "CREATE DATABASE $DB"; show "$LOGS/createdb.log" 5; finish
fi
export DATABASE_URL="$PG_URL/$DB"

# --- 5. build, unit, e2e, start ---------------------------------------------------------------
step "npm run build (nest build)"
T=$(date +%s)
if run_in_app "$LOGS/build.log" 300 npm run build && [[ -f "$APP/dist/main.js" ]]; then
  pass "npm run build: nest build type-checks the app against the packages' .d.ts and emits dist/main.js ($(since "$T"))"
else
  fail "npm run build ($(since "$T"))"; show "$LOGS/build.log"
fi

# nest build compiles src/ only (tsconfig.build.json), and ts-jest under isolatedModules only
# transpiles: type-check the whole app, tests included, which is where the testing kit's types meet
# the app's tsconfig.
step "tsc --noEmit -p tsconfig.json (src and test, the stock options)"
T=$(date +%s)
if run_in_app "$LOGS/typecheck.log" 300 npx --no-install tsc -p tsconfig.json --noEmit; then
  pass "tsc --noEmit: the app and its e2e type-check against both packages' .d.ts ($(since "$T"))"
else
  fail "tsc --noEmit: the app and its e2e type-check against both packages' .d.ts ($(since "$T"))"; show "$LOGS/typecheck.log"
fi

# The stock tsconfig skips checking inside .d.ts files (skipLibCheck); a team without it, or with
# `nest new --strict` (noImplicitAny, strictBindCallApply, noFallthroughCasesInSwitch), must not get
# errors from ours. Errors in other packages' declarations are not ours to judge.
step "tsc --noEmit --skipLibCheck false, stock and --strict options (errors inside @nest-social-auth/*.d.ts only)"
T=$(date +%s)
run_in_app "$LOGS/libcheck.log" 300 npx --no-install tsc -p tsconfig.json --noEmit --skipLibCheck false || true
run_in_app "$LOGS/libcheck-strict.log" 300 npx --no-install tsc -p tsconfig.json --noEmit --skipLibCheck false \
  --noImplicitAny true --strictBindCallApply true --noFallthroughCasesInSwitch true || true
if grep -q 'node_modules/@nest-social-auth/' "$LOGS/libcheck.log" "$LOGS/libcheck-strict.log"; then
  fail "the packages' .d.ts type-check with skipLibCheck off, stock and strict ($(since "$T"))"
  grep -h -A3 'node_modules/@nest-social-auth/' "$LOGS/libcheck.log" "$LOGS/libcheck-strict.log" | sort -u | head -n 30 | sed 's/^/    /'
else
  pass "the packages' .d.ts type-check with skipLibCheck off, stock and strict ($(since "$T"))"
fi

step "npm test (the stock unit spec, stock Jest config in package.json)"
T=$(date +%s)
if run_in_app "$LOGS/unit.log" 300 npm test; then
  pass "npm test: $(grep -E '^Tests:' "$LOGS/unit.log" | tail -n 1 | sed 's/ \+/ /g') ($(since "$T"))"
else
  fail "npm test ($(since "$T"))"; show "$LOGS/unit.log" 60
fi

step "npm run test:e2e (stock test/jest-e2e.json; fake Google and GitHub; PostgreSQL $DB)"
T=$(date +%s)
if run_in_app "$LOGS/e2e.log" 600 npm run test:e2e -- --verbose; then
  pass "npm run test:e2e: $(grep -E '^Tests:' "$LOGS/e2e.log" | tail -n 1 | sed 's/ \+/ /g') ($(since "$T"))"
  grep -E '^\s+(✓|✕|○)' "$LOGS/e2e.log" | sed 's/^ */    /' || true
else
  fail "npm run test:e2e ($(since "$T"))"; show "$LOGS/e2e.log" 120
fi

step "start the built app (node dist/main) and call it"
T=$(date +%s)
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
(
  cd "$APP"
  export PORT APP_URL="http://127.0.0.1:$PORT" AUTH_JWT_SECRET=consumer-app-smoke-secret-0123456789-abcdefghij \
    GOOGLE_CLIENT_ID=smoke-google-client GOOGLE_CLIENT_SECRET=smoke-google-secret \
    GITHUB_CLIENT_ID=smoke-github-client GITHUB_CLIENT_SECRET=smoke-github-secret
  exec node dist/main
) >"$LOGS/start.log" 2>&1 &
SMOKE_PID=$!
smoke=$(node - "$PORT" "$SMOKE_PID" <<'JS' 2>&1 || true
const [port, pid] = process.argv.slice(2).map(Number);
const base = `http://127.0.0.1:${port}`;
const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
(async () => {
  // Up to 60 s for the app to listen, unless it exits first.
  for (let i = 0; i < 240 && alive(); i++) {
    try { await fetch(`${base}/api`); break; } catch { await new Promise((r) => setTimeout(r, 250)); }
  }
  if (!alive()) return console.log(JSON.stringify({ error: 'the app exited' }));
  const hello = await fetch(`${base}/api`);
  const me = await fetch(`${base}/api/me`);
  const start = await fetch(`${base}/api/auth/github`, { redirect: 'manual' });
  const location = start.headers.get('location') ?? '';
  console.log(JSON.stringify({ hello: [hello.status, await hello.text()], me: me.status, start: start.status, redirect_uri: new URL(location, base).searchParams.get('redirect_uri') }));
})().catch((e) => console.log(JSON.stringify({ error: String(e) })));
JS
)
kill "$SMOKE_PID" 2>/dev/null || true
wait "$SMOKE_PID" 2>/dev/null || true
SMOKE_PID=""
expected="{\"hello\":[200,\"Hello World!\"],\"me\":401,\"start\":302,\"redirect_uri\":\"http://127.0.0.1:$PORT/api/auth/github/callback\"}"
if [[ "$smoke" == "$expected" ]]; then
  pass "node dist/main: GET /api 200, GET /api/me 401, GET /api/auth/github 302 with redirect_uri under /api ($(since "$T"))"
else
  fail "node dist/main: GET /api 200, GET /api/me 401, GET /api/auth/github 302 with redirect_uri under /api ($(since "$T"))"
  echo "    expected $expected"
  echo "    got      $smoke"
  show "$LOGS/start.log" 30
fi
if grep -qiE 'ExperimentalWarning|DeprecationWarning' "$LOGS/start.log"; then
  echo "note: the built app printed warnings at start:"; grep -iE 'Warning' "$LOGS/start.log" | sort -u | head -n 5 | sed 's/^/    /'
fi

finish
