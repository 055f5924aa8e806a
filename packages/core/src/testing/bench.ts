export interface BenchResult {
  name: string;
  iterations: number;
  opsPerSec: number;
  /** Nanoseconds. */
  p50: number;
  p99: number;
  mean: number;
  /**
   * CPU time (user + system, every thread of the process, garbage collection included) per
   * measured call. Less moved by other processes on a shared machine than wall time.
   */
  cpu: number;
}

export interface BenchOptions {
  iterations?: number;
  warmup?: number;
}

/**
 * Times `fn` one call at a time and reports ops/s, p50, p99 and CPU time per call in
 * nanoseconds. Each run also prints one `BENCH {json}` line that the root `pnpm bench`
 * collects into a table.
 */
export async function bench(
  name: string,
  fn: (i: number) => unknown,
  options: BenchOptions = {},
): Promise<BenchResult> {
  const iterations = options.iterations ?? 20_000;
  const warmup = options.warmup ?? Math.min(5_000, iterations);
  // Warm-up calls get indices after the measured ones, so ids derived from `i` never repeat.
  for (let i = 0; i < warmup; i++) {
    const r = fn(iterations + i);
    if (r instanceof Promise) await r;
  }
  const samples = new Float64Array(iterations);
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    const r = fn(i);
    if (r instanceof Promise) await r;
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  const total = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpu0);
  samples.sort();
  const pick = (q: number) => samples[Math.min(iterations - 1, Math.floor(q * iterations))]!;
  const result: BenchResult = {
    name,
    iterations,
    opsPerSec: Math.round((iterations / total) * 1e9),
    p50: pick(0.5),
    p99: pick(0.99),
    mean: total / iterations,
    cpu: Math.round(((cpu.user + cpu.system) * 1000) / iterations),
  };
  console.log(`BENCH ${JSON.stringify(result)}`);
  return result;
}
