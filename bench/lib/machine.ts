import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { resolve } from 'node:path';
import { serverVersion } from './pg';

export interface MachineInfo {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  commit: string;
  versions: Record<string, string>;
  /** 1-minute load average when the run started (other work on the machine shows up here). */
  loadAtStart: number;
  /** … and when it ended (filled in by main.ts). */
  loadAtEnd?: number;
}

const PACKAGES = ['@nestjs/core', '@nestjs/platform-express', '@nestjs/jwt', '@nestjs/passport', 'passport', 'passport-jwt', 'jsonwebtoken', 'typeorm', 'pg', 'express', 'autocannon', 'typescript'];

export async function machineInfo(): Promise<MachineInfo> {
  const root = resolve(__dirname, '..', '..');
  const versions: Record<string, string> = {};
  for (const name of PACKAGES) {
    try {
      versions[name] = (JSON.parse(readFileSync(resolve(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      versions[name] = 'n/a';
    }
  }
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- libs src', { cwd: root, encoding: 'utf8' }).trim();
    if (dirty) commit += ' + uncommitted changes in libs/src';
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    postgres: await serverVersion(),
    commit,
    versions,
    loadAtStart: loadavg()[0],
  };
}
