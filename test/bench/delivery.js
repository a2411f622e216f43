// 10,000 upserts queued while offline, then drained through the real proxy to the emulator on loopback: requests,
// wall time and duplicates, once against a healthy API and once with 20% of upstream answers 5xx.
import { pathToFileURL } from 'node:url';
import { startE2e, until } from '../helpers/e2e.js';
import { count } from './quick.js';

const N = count(10_000, 50);

async function drain(e2e, faults) {
  e2e.backend.reset();
  e2e.backend.emulator.setFaults(faults);
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  await page.goto(e2e.url('/test/e2e/pages/module.html'));
  await page.evaluate(() => window.ready);
  await context.setOffline(true);
  await page.evaluate(async (n) => {
    window.idc = window.createIdCapture({ endpoint: '/api/profiles', maxQueueSize: n });
    for (let i = 0; i < n; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => window.idc.identify({ email: `bench-${i + j}@test.com` })));
    }
  }, N);
  const started = Date.now();
  await context.setOffline(false);
  const distinct = () => e2e.backend.emulator.profiles().length;
  await until(() => distinct() === N, `${N} profiles`, 300_000);
  const seconds = (Date.now() - started) / 1000;
  await until(async () => (await page.evaluate(() => window.idc.flush())).pending === 0, 'an empty queue', 30_000);
  const stats = e2e.backend.emulator.stats();
  await context.close();
  return { seconds, requests: e2e.backend.requests['/api/profiles'] ?? 0, duplicates: stats.recordsApplied - N };
}

export async function bench() {
  const e2e = await startE2e();
  try {
    const rows = [];
    let healthy;
    for (const [label, faults] of [['healthy API', {}], ['20% upstream 5xx', { errorRate: 0.2, seed: 7 }]]) {
      const { seconds, requests, duplicates } = await drain(e2e, faults);
      // The faulty run's figures are given as ratios to the healthy run's, measured just before.
      const vs = (value, key) => (healthy ? { reference: 'the same drain, healthy API', referenceValue: healthy[key], ratio: value / healthy[key] } : {});
      rows.push(
        { name: `drain ${N} upserts, ${label}: wall time`, value: Number(seconds.toFixed(1)), unit: 's', ...vs(Number(seconds.toFixed(1)), 'seconds') },
        { name: `drain ${N} upserts, ${label}: requests to the proxy`, value: requests, unit: 'requests', ...vs(requests, 'requests') },
        { name: `drain ${N} upserts, ${label}: duplicates applied`, value: duplicates, unit: 'upserts' },
      );
      healthy ??= { seconds: Number(seconds.toFixed(1)), requests };
    }
    return rows;
  } finally {
    await e2e.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await bench());
