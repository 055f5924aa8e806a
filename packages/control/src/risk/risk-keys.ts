import { fixedBucket } from '../budgets/window.js';
import type { CompiledPolicy } from '../policy/compile-policy.js';

/** The agent-store key of an agent's cumulative risk under a policy, in the window containing `now`. */
export function riskKey(
  policy: CompiledPolicy,
  agentId: string,
  now: number,
): { key: string; retainUntil: number } {
  const risk = policy.risk!;
  const bucket = fixedBucket(risk.window, policy.timeZone, now);
  return {
    key: `bursar|risk|${policy.ref.id}|${risk.windowLabel}|${bucket.bucket}|${agentId}`,
    retainUntil: bucket.retainUntil,
  };
}

/** The strictest strike setting of the loaded policies: fewest strikes, longest window. */
export function combineStrikes(
  policies: readonly CompiledPolicy[],
): { max: number; windowMs: number } | undefined {
  let out: { max: number; windowMs: number } | undefined;
  for (const p of policies) {
    if (!p.strikes) continue;
    out = out
      ? { max: Math.min(out.max, p.strikes.max), windowMs: Math.max(out.windowMs, p.strikes.windowMs) }
      : { ...p.strikes };
  }
  return out;
}
