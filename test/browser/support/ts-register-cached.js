'use strict';
/*
 * Require hook for the demo child process of the browser suite: each .ts file is transpiled to
 * CommonJS with `ts.transpileModule` and the project's compiler options (what ts-node's
 * transpile-only mode does), and the output is cached on disk by content hash. A warm start then
 * never loads TypeScript, which is most of the demo's start-up cost (seconds of CPU).
 *
 * Used as `node -r ./test/browser/support/ts-register-cached.js -r tsconfig-paths/register src/main.ts`.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../../..');
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'browser-suite-ts');
const HOOK_VERSION = '1';

// Everything the output depends on besides the file itself, read without loading TypeScript.
const SALT = [
  HOOK_VERSION,
  process.version,
  JSON.parse(fs.readFileSync(require.resolve('typescript/package.json'), 'utf8')).version,
  fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'),
].join('\0');

let typescript;
let compilerOptions;

function transpile(source, filename) {
  if (!typescript) {
    typescript = require('typescript');
    const configFile = path.join(ROOT, 'tsconfig.json');
    const { config } = typescript.readConfigFile(configFile, typescript.sys.readFile);
    compilerOptions = typescript.parseJsonConfigFileContent(config, typescript.sys, ROOT, undefined, configFile).options;
    Object.assign(compilerOptions, { module: typescript.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: false, declaration: false });
  }
  return typescript.transpileModule(source, { compilerOptions, fileName: filename }).outputText;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = createHash('sha256').update(SALT).update('\0').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(CACHE_DIR, `${key}.js`);
  let output;
  try {
    output = fs.readFileSync(cached, 'utf8');
  } catch {
    output = transpile(source, filename);
    try {
      fs.mkdirSync(CACHE_DIR, { recursive: true });
      const temporary = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, output);
      fs.renameSync(temporary, cached);
    } catch {
      // A read-only tree only loses the cache.
    }
  }
  module._compile(output, filename);
};
