#!/usr/bin/env node
// Runs every package's benchmark script and prints one table of what they measured.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv[2];
const rows = [];
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const pkgFile = join(root, 'packages', dir, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  if (!pkg.scripts?.bench || (only && !pkg.name.includes(only))) continue;
  process.stderr.write(`\u25b6 ${pkg.name} bench\n`);
  const run = spawnSync('pnpm', ['--silent', 'run', 'bench'], {
    cwd: join(root, 'packages', dir),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('BENCH ')) rows.push({ pkg: pkg.name, ...JSON.parse(line.slice(6)) });
    else if (line.trim()) process.stderr.write(`  ${line}\n`);
  }
  if (run.status !== 0) {
    console.error(`${pkg.name} bench failed with exit code ${run.status}`);
    process.exitCode = 1;
  }
}
const us = (ns) => (ns / 1000).toFixed(2);
const table = [
  ['benchmark', 'ops/s', 'p50 µs', 'p99 µs'],
  ...rows.map((r) => [r.name, r.opsPerSec.toLocaleString('en-US'), us(r.p50), us(r.p99)]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
const line = (row) =>
  `| ${row.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
console.log(line(table[0]));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const row of table.slice(1)) console.log(line(row));
