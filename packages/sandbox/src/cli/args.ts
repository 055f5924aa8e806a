import { DEFAULT_SEED } from '../runner/run-scenarios.js';

/** What `bursar-demo` was asked to do. */
export interface CliArgs {
  /** Scenario ids to run (empty: all). */
  scenarios: string[];
  seed: number | string;
  json: boolean;
  /** `false` (--no-color), `true` (--color) or undefined (decide from the terminal and NO_COLOR). */
  color: boolean | undefined;
  /** A policy file (JSON/YAML) to run every scenario against instead of its own policy. */
  policy?: string;
  list: boolean;
  help: boolean;
  version: boolean;
}

/** A usage mistake: the CLI prints it with the help text and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `process.argv.slice(2)`. Accepts `--flag value` and `--flag=value`. */
export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = {
    scenarios: [],
    seed: DEFAULT_SEED,
    json: false,
    color: undefined,
    list: false,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      i++;
      return next;
    };
    switch (flag) {
      case '--scenario':
      case '-s':
        for (const id of value().split(',')) if (id.trim()) args.scenarios.push(id.trim());
        break;
      case '--seed': {
        const v = value();
        if (/^\d{1,15}$/.test(v)) args.seed = Number(v);
        else if (/^[\w.-]{1,64}$/.test(v)) args.seed = v;
        else throw new UsageError(`--seed must be a number or a short word; got ${JSON.stringify(v)}`);
        break;
      }
      case '--json':
        args.json = true;
        break;
      case '--no-color':
        args.color = false;
        break;
      case '--color':
        args.color = true;
        break;
      case '--policy':
        args.policy = value();
        break;
      case '--list':
        args.list = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      case '--version':
      case '-v':
        args.version = true;
        break;
      default:
        throw new UsageError(`Unknown option ${raw}`);
    }
  }
  return args;
}

/** The `--help` text. */
export const HELP = `bursar-demo: run Bursar's sandbox scenarios against the mock x402, ACP and AP2 rails

Usage: bursar-demo [options]

Options:
  --scenario, -s <id>   run only these scenarios (repeat or comma-separate); --list shows ids
  --seed <n>            seed for every random choice of the rails (default ${DEFAULT_SEED})
  --policy <file>       run every scenario against this policy file (JSON or YAML) instead of its own
  --json                print one JSON document instead of the text report
  --no-color            no colour (also: NO_COLOR=1); --color forces it
  --list                list the scenarios and exit
  --help, -h            this text
  --version, -v         the package version

Exit code: 0 when every scenario's outcome matches its expectation, 1 when one differs, 2 on a usage error.
`;
