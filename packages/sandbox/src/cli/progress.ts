/** Something a progress display writes to (stderr in the CLI). */
export interface ProgressStream {
  write(chunk: string): boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A one-line step counter with a spinner, redrawn in place. Only used on a TTY; elsewhere it
 * writes nothing, so piped output stays clean.
 */
export class Progress {
  readonly #stream: ProgressStream;
  readonly #enabled: boolean;
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;
  #text = '';

  constructor(stream: ProgressStream, enabled: boolean) {
    this.#stream = stream;
    this.#enabled = enabled;
  }

  /** Shows `[step/total] label` with a spinner until the next call or `clear()`. */
  update(step: number, total: number, label: string): void {
    if (!this.#enabled) return;
    this.#text = `[${step}/${total}] ${label}`;
    this.#draw();
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#draw(), 80);
      this.#timer.unref();
    }
  }

  /** Erases the line and stops the spinner. */
  clear(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#enabled && this.#text) this.#stream.write('\r\u001b[2K');
    this.#text = '';
  }

  #draw(): void {
    const frame = FRAMES[this.#frame++ % FRAMES.length];
    this.#stream.write(`\r\u001b[2K${frame} ${this.#text}`);
  }
}
