#!/usr/bin/env node
import { runCli } from './cli/run-cli.js';

// The bursar-audit bin. All logic lives in runCli so tests can drive it in-process too.
runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bursar-audit: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
