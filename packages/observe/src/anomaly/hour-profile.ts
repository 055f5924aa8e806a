/**
 * How an agent's executed payments spread over the 24 hours of the day (in the detector's
 * time zone). Counts are halved once the total passes a cap, so old habits fade. Internal.
 */
export class HourProfile {
  /** A plain array of small integers lives on the heap next to its header; a typed array of 24 would not. */
  readonly counts: number[] = Array.from({ length: 24 }, () => 0);
  total = 0;

  add(hour: number, cap: number): void {
    this.counts[hour]! += 1;
    this.total++;
    if (this.total >= cap) {
      let t = 0;
      for (let h = 0; h < 24; h++) {
        this.counts[h] = this.counts[h]! >>> 1;
        t += this.counts[h]!;
      }
      this.total = t;
    }
  }
}
