export { type CliIo, ExitCode, runCli } from './run-cli.js';
