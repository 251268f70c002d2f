import { RequestBudget } from '../src/http/budget.js';
import { quotaOf, retryAfterMs, serverWaitMs } from '../src/http/rate-headers.js';
import { redactUrl } from '../src/http/redact-url.js';
import { redactor } from '@datakit/core';

describe('request budget', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('spaces request starts evenly and never exceeds the rate over any window', async () => {
    const budget = new RequestBudget({ requestsPerSecond: 20, concurrency: 8, now: () => Date.now() });
    budget.record = true;
    const grants = Array.from({ length: 41 }, () => budget.acquire().then((release) => release()));
    await jest.advanceTimersByTimeAsync(3000);
    await Promise.all(grants);
    const starts = budget.starts;
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(50);
    for (const t of starts) expect(starts.filter((s) => s >= t && s < t + 1000).length).toBeLessThanOrEqual(20);
  });

  it('never has more requests in flight than the concurrency', async () => {
    const budget = new RequestBudget({ concurrency: 3 });
    let inFlight = 0;
    let peak = 0;
    const work = Array.from({ length: 10 }, async () => {
      const release = await budget.acquire();
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 10));
      inFlight -= 1;
      release();
    });
    await jest.advanceTimersByTimeAsync(100);
    await Promise.all(work);
    expect(peak).toBe(3);
  });

  it('holds every request during a server-requested pause, and lets an abort out of the queue', async () => {
    const budget = new RequestBudget({ now: () => Date.now() });
    budget.pauseFor(1000);
    let granted = false;
    const p = budget.acquire().then((r) => {
      granted = true;
      r();
    });
    const controller = new AbortController();
    const aborted = budget.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    await jest.advanceTimersByTimeAsync(999);
    expect(granted).toBe(false);
    await jest.advanceTimersByTimeAsync(2);
    await p;
    expect(granted).toBe(true);
  });
});

describe('rate-limit headers', () => {
  const now = Date.UTC(2024, 0, 1);
  it('reads Retry-After in seconds and as an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': '3' }, now)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': new Date(now + 5000).toUTCString() }, now)).toBe(5000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
  });

  it('reads IETF RateLimit headers (both drafts) and X-RateLimit with epoch resets', () => {
    expect(quotaOf({ 'ratelimit-remaining': '0', 'ratelimit-reset': '7' }, now)).toEqual({ remaining: 0, resetMs: 7000 });
    expect(quotaOf({ ratelimit: 'limit=100, remaining=0, reset=9' }, now)).toEqual({ remaining: 0, resetMs: 9000 });
    expect(quotaOf({ ratelimit: '"default";r=0;t=4' }, now)).toEqual({ remaining: 0, resetMs: 4000 });
    expect(quotaOf({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 30) }, now)).toEqual({ remaining: 0, resetMs: 30000 });
    expect(serverWaitMs({ 'x-ratelimit-remaining': '5', 'x-ratelimit-reset': '30' }, now)).toBeUndefined();
  });
});

describe('URL redaction', () => {
  it('masks secret query parameters and known secrets', () => {
    redactor.add(['tenant-secret-xyz']);
    expect(redactUrl('https://u:pw@api.example.com/a?api_key=k1&page=2&sig=abc&x=tenant-secret-xyz', ['api_key'])).toBe('https://u:***@api.example.com/a?api_key=***&page=2&sig=***&x=***');
    expect(redactUrl('https://api.example.com/a?myKey=1', ['mykey'])).toBe('https://api.example.com/a?myKey=***');
  });
});
