import {
  FacilitatorResponseError,
  FacilitatorTimeoutError,
  SettleError,
  VerifyError,
} from '@x402/core/types';
import { describe, expect, it } from 'vitest';
import {
  classifyFacilitatorError,
  classifyFacilitatorResult,
  defaultIsFacilitatorFaultReason,
  isAmbiguousSettleFailure,
} from './classify.js';
import { FacilitatorUnavailableError } from './facilitator-unavailable-error.js';

const refused = Object.assign(new TypeError('fetch failed'), {
  cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
});
const reset = Object.assign(new TypeError('fetch failed'), {
  cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
});

describe('classifyFacilitatorError', () => {
  it('a settle timeout is an unknown outcome: never retried, counts against the facilitator', () => {
    const c = classifyFacilitatorError('settle', new FacilitatorTimeoutError('settle', 5000));
    expect(c).toEqual({
      operation: 'settle',
      facilitatorFault: true,
      delivery: 'unknown',
      retryable: false,
      cause: 'timeout',
    });
    expect(isAmbiguousSettleFailure(new FacilitatorTimeoutError('settle', 5000))).toBe(true);
  });

  it('a verify timeout may fail over', () => {
    expect(classifyFacilitatorError('verify', new FacilitatorTimeoutError('verify', 5000))).toMatchObject({
      retryable: true,
      delivery: 'unknown',
    });
  });

  it('a refused connection was never sent: even a settle may go elsewhere', () => {
    expect(classifyFacilitatorError('settle', refused)).toMatchObject({
      delivery: 'not_sent',
      retryable: true,
      facilitatorFault: true,
      cause: 'econnrefused',
    });
    expect(isAmbiguousSettleFailure(refused)).toBe(false);
  });

  it('a connection lost after sending is unknown for settle', () => {
    expect(classifyFacilitatorError('settle', reset)).toMatchObject({
      delivery: 'unknown',
      retryable: false,
    });
    expect(classifyFacilitatorError('verify', reset)).toMatchObject({ delivery: 'unknown', retryable: true });
  });

  it('an open circuit is not sent and does not count as a new fault', () => {
    const e = new FacilitatorUnavailableError('settle', ['a']);
    expect(classifyFacilitatorError('settle', e)).toMatchObject({
      delivery: 'not_sent',
      facilitatorFault: false,
      cause: 'circuit_open',
      retryable: true,
    });
  });

  it('a facilitator answer of failure is definite; settlement_pending is unknown', () => {
    const failed = new SettleError(400, {
      success: false,
      errorReason: 'insufficient_funds',
      transaction: '',
      network: 'eip155:84532',
    });
    expect(classifyFacilitatorError('settle', failed)).toMatchObject({
      delivery: 'rejected',
      facilitatorFault: false,
      retryable: false,
      cause: 'insufficient_funds',
    });
    const pending = new SettleError(500, {
      success: false,
      errorReason: 'settlement_pending',
      transaction: '0xabc',
      network: 'eip155:84532',
    });
    expect(classifyFacilitatorError('settle', pending)).toMatchObject({
      delivery: 'unknown',
      retryable: false,
    });
  });

  it('an invalid payment does not count against the facilitator; its own fault does', () => {
    expect(
      classifyFacilitatorError(
        'verify',
        new VerifyError(400, { isValid: false, invalidReason: 'invalid_signature' }),
      ),
    ).toMatchObject({ facilitatorFault: false, retryable: false });
    expect(
      classifyFacilitatorError(
        'verify',
        new VerifyError(500, { isValid: false, invalidReason: 'unexpected_verify_error' }),
      ),
    ).toMatchObject({ facilitatorFault: true, retryable: true });
    expect(
      classifyFacilitatorError(
        'verify',
        new VerifyError(429, { isValid: false, invalidReason: 'slow_down' }),
      ),
    ).toMatchObject({ facilitatorFault: true });
  });

  it('malformed answers and plain errors are unknown faults', () => {
    expect(classifyFacilitatorError('settle', new FacilitatorResponseError('bad json'))).toMatchObject({
      delivery: 'unknown',
      facilitatorFault: true,
      cause: 'malformed_response',
    });
    expect(
      classifyFacilitatorError('settle', new Error('Facilitator settle failed (502): bad gateway')),
    ).toMatchObject({
      delivery: 'unknown',
      cause: 'http_502',
    });
  });
});

describe('classifyFacilitatorResult', () => {
  it('treats success and payment invalidity as healthy answers', () => {
    expect(classifyFacilitatorResult('verify', { isValid: true })).toBeNull();
    expect(
      classifyFacilitatorResult('verify', { isValid: false, invalidReason: 'insufficient_funds' }),
    ).toBeNull();
    expect(
      classifyFacilitatorResult('settle', {
        success: false,
        errorReason: 'invalid_exact_evm_signature',
        transaction: '',
        network: 'eip155:1',
      }),
    ).toBeNull();
  });

  it('flags answers that blame the facilitator and pending settlements', () => {
    expect(
      classifyFacilitatorResult('verify', { isValid: false, invalidReason: 'unexpected_verify_error' }),
    ).toMatchObject({ facilitatorFault: true, retryable: true });
    expect(
      classifyFacilitatorResult('settle', {
        success: false,
        errorReason: 'settlement_pending',
        transaction: '0x1',
        network: 'eip155:1',
      }),
    ).toMatchObject({ delivery: 'unknown', facilitatorFault: false, retryable: false });
  });

  it('default fault reasons', () => {
    expect(defaultIsFacilitatorFaultReason('unexpected_settle_error')).toBe(true);
    expect(defaultIsFacilitatorFaultReason('rpc_unavailable')).toBe(true);
    expect(defaultIsFacilitatorFaultReason('invalid_exact_evm_signature')).toBe(false);
    expect(defaultIsFacilitatorFaultReason(undefined)).toBe(false);
  });
});
