import { describe, expect, it } from 'vitest';
import { BursarError, ErrorCode, ValidationError } from './bursar-error.js';

describe('BursarError', () => {
  it('carries code, details, status, cause and serialises without the stack', () => {
    const cause = new Error('db down');
    const e = new BursarError(ErrorCode.STORE, 'store failed', {
      cause,
      details: { op: 'placeHold' },
      status: 503,
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.cause).toBe(cause);
    expect(e.toJSON()).toEqual({
      name: 'BursarError',
      code: 'ERR_BURSAR_STORE',
      message: 'store failed',
      details: { op: 'placeHold' },
    });
  });

  it('isInstance works across copies of the package (symbol brand, not prototype)', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('bursar.error')]: true,
      code: 'ERR_BURSAR_X',
    });
    expect(BursarError.isInstance(foreign)).toBe(true);
    expect(BursarError.isInstance(new Error('plain'))).toBe(false);
    expect(BursarError.isInstance(null)).toBe(false);
  });

  it('ValidationError lists issues and defaults to status 400', () => {
    const e = new ValidationError(ErrorCode.INVALID_INTENT, 'bad', [{ path: 'amount', message: 'required' }]);
    expect(e.status).toBe(400);
    expect(BursarError.hasCode(e, ErrorCode.INVALID_INTENT)).toBe(true);
    expect(e.toJSON()).toMatchObject({ issues: [{ path: 'amount', message: 'required' }] });
  });
});
