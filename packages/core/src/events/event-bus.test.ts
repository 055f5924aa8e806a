import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from './event-bus.js';

const facts = { at: 1, agentId: 'a', holdId: 'h' };

describe('EventBus', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('delivers typed events in order and unsubscribes', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = bus.on('hold.placed', (e) => {
      seen.push(`1:${e.holdId}`);
    });
    bus.on('hold.placed', (e) => {
      seen.push(`2:${e.holdId}`);
    });
    bus.emit('hold.placed', facts);
    off();
    bus.emit('hold.placed', { ...facts, holdId: 'h2' });
    expect(seen).toEqual(['1:h', '2:h', '2:h2']);
  });

  it('once fires a single time; onAny sees every event', () => {
    const bus = new EventBus();
    const once = vi.fn();
    const any = vi.fn();
    bus.once('hold.released', once);
    bus.onAny(any);
    bus.emit('hold.released', facts);
    bus.emit('hold.released', facts);
    expect(once).toHaveBeenCalledTimes(1);
    expect(any).toHaveBeenCalledTimes(2);
    expect(any).toHaveBeenCalledWith('hold.released', facts);
  });

  it('a throwing listener neither breaks the emitter nor other listeners, and is reported', () => {
    const bus = new EventBus();
    const errors: unknown[] = [];
    const after = vi.fn();
    bus.on('listener.error', (e) => {
      errors.push(e);
    });
    bus.on('hold.captured', () => {
      throw new Error('boom');
    });
    bus.on('hold.captured', after);
    expect(() => bus.emit('hold.captured', facts)).not.toThrow();
    expect(after).toHaveBeenCalledOnce();
    expect(errors).toEqual([{ event: 'hold.captured', error: expect.objectContaining({ message: 'boom' }) }]);
  });

  it('reports rejected async listeners too', async () => {
    const bus = new EventBus();
    const errors: unknown[] = [];
    bus.on('listener.error', (e) => {
      errors.push(e.event);
    });
    bus.on('hold.captured', async () => {
      throw new Error('later');
    });
    bus.emit('hold.captured', facts);
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['hold.captured']);
  });

  it('with nobody listening for errors, emits a process warning instead of hiding it', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const bus = new EventBus();
    bus.on('hold.captured', () => {
      throw new Error('unheard');
    });
    bus.emit('hold.captured', facts);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('unheard'),
      expect.objectContaining({ code: 'BURSAR_LISTENER_ERROR' }),
    );
  });

  it('a failing error listener does not loop', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const bus = new EventBus();
    bus.on('listener.error', () => {
      throw new Error('error handler broke');
    });
    bus.on('hold.captured', () => {
      throw new Error('first');
    });
    bus.emit('hold.captured', facts);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
