import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Every `// example: <name>` block of the README's Approvals section runs as written, in its
// own process, against this package's source.

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const entry = join(packageDir, 'src', 'index.ts');
const dir = mkdtempSync(join(tmpdir(), 'bursar-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function example(name: string): string {
  const block = new RegExp(`\`\`\`ts\\n// example: ${name}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!block) throw new Error(`README has no "// example: ${name}" block`);
  return block[1]!.replaceAll("from '@bursar/control'", `from ${JSON.stringify(entry)}`);
}

function run(name: string): Promise<{ code: number | null; out: string; err: string }> {
  const file = join(dir, `${name}.mts`); // ESM: the examples use top-level await
  writeFileSync(file, example(name));
  return new Promise((resolve) => {
    // stdin is a pipe, not a TTY: the terminal example must fail closed.
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: packageDir, stdio: 'pipe' });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('README approval examples', () => {
  it('run and print what their comments say', { timeout: 40_000 }, async () => {
    const [handler, terminal, webhook, api] = await Promise.all(
      ['handler', 'terminal', 'webhook', 'api'].map(run),
    );
    expect(handler!.err).toBe('');
    expect(handler!.out).toMatch(
      /^allow Approved at level default by spend-bot \(handler\) at \S+: "known vendor"\n$/,
    );
    expect(terminal!.out).toBe('rejected deny approval_channel_failed\n');
    expect(webhook!.err).toBe('');
    expect(webhook!.out).toBe('approved allow carol\n');
    expect(api!.out).toBe("finance [ 'carol', 'dan' ]\nallow hold kept\n");
    for (const r of [handler, terminal, webhook, api]) expect(r!.code).toBe(0);
  });
});
