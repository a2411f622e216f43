// Main-thread time of one auto-capture on submit, in Chromium, via the script-tag bundle: the WooCommerce checkout
// fixture (24 controls, 10 captured fields) is submitted with requestSubmit(), which runs the submit listeners
// synchronously; the same submit on a page without idcapture is the baseline. Each sample times a run of submits
// (the browser's clock is coarsened to 100 µs); the figure is the median of many samples.
import { pathToFileURL } from 'node:url';
import { startE2e } from '../helpers/e2e.js';

const SAMPLES = 60;
const RUN = 20;

/** Median ms per submit, with idcapture (`tag`) or without. */
async function measure(e2e, tag) {
  const context = await e2e.browser.newContext();
  // Deliveries go to the real proxy; a busy endpoint keeps them from running during the measurement.
  await context.route('**/api/profiles', (route) => route.fulfill({ status: 503, headers: { 'retry-after': '3600' } }));
  const page = await context.newPage();
  await page.goto(e2e.url('/test/bench/pages/capture.html'));
  await page.evaluate(() => window.ready);
  if (!tag) await page.evaluate(() => window.idcapture.destroy());
  const ms = await page.evaluate(
    async ([samples, run]) => {
      const form = document.querySelector('form');
      form.addEventListener('submit', (e) => e.preventDefault());
      const values = { billing_first_name: 'Jenny', billing_last_name: 'Rosen', billing_country: 'US', billing_address_1: '1 Main St', billing_city: 'Boston', billing_state: 'MA', billing_postcode: '02101', billing_phone: '617-555-0100' };
      for (const [name, value] of Object.entries(values)) form.elements[name].value = value;
      const times = [];
      let n = 0;
      for (let s = 0; s < samples; s++) {
        const t = performance.now();
        for (let i = 0; i < run; i++) {
          // A new email each time: a repeat of the last capture would be skipped, which is cheaper.
          form.elements.billing_email.value = `bench-${n++}@test.com`;
          form.requestSubmit();
        }
        times.push((performance.now() - t) / run);
        // Let the queued writes run between samples, as they would between two real submits.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return times.sort((a, b) => a - b)[times.length >> 1];
    },
    [SAMPLES, RUN],
  );
  await context.close();
  return ms;
}

export async function bench() {
  const e2e = await startE2e();
  try {
    const without = await measure(e2e, false);
    const withTag = await measure(e2e, true);
    return [
      { name: 'one capture on submit, main thread (median), WooCommerce checkout', value: +(withTag - without).toFixed(3), unit: 'ms' },
      { name: 'the same submit without idcapture (baseline)', value: +without.toFixed(3), unit: 'ms' },
    ];
  } finally {
    await e2e.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await bench());
