#!/usr/bin/env node
'use strict';
// Entry of `npm run bench`. Runs bench/main.ts under ts-node (transpile-only) with the repo's
// path aliases; every benchmark server is a separate child process started by main.ts.
// Usage: npm run bench [-- --only=guard,memory] [--scale] [--quick] [--no-write]
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const result = spawnSync(
  process.execPath,
  ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', path.join(__dirname, 'main.ts'), ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') } },
);
process.exit(result.status ?? 1);
