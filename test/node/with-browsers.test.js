// test/with-browsers.js leaves nothing running: WebKitWebDriver and Xvfb end with the command, whether it passes,
// fails or is interrupted. Part of the WebKit run: `BROWSERS` without webkit leaves it out with the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { selectedEngines } from '../browsers.js';

const wrapper = fileURLToPath(new URL('../with-browsers.js', import.meta.url));

/**
 * Runs a command that reports what it was given, then is sent `signal`, or exits with `code` once told to (by the
 * file `done` appearing).
 */
async function wrapped({ code, signal }) {
  const done = join(mkdtempSync(join(tmpdir(), 'with-browsers-')), 'done');
  const script = `console.log(JSON.stringify({ driver: process.env.IDCAPTURE_WEBKIT_WEBDRIVER, display: process.env.DISPLAY }));
    setInterval(() => require('node:fs').existsSync(${JSON.stringify(done)}) && process.exit(${code ?? 0}), 20);`;
  const child = spawn(process.execPath, [wrapper, process.execPath, '-e', script], {
    env: { ...process.env, BROWSERS: 'webkit' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(child.stdout.setEncoding('utf8'), 'data');
  const given = JSON.parse(line);
  const status = await (await fetch(`${given.driver}/status`)).json();
  assert.equal(status.value.ready, true, 'the driver answered while the command ran');
  if (signal) child.kill(signal);
  else writeFileSync(done, '');
  const [exitCode] = await once(child, 'exit');
  return { given, exitCode };
}

/** Whether any process is still running with these words on its command line. */
const running = (...words) => {
  const lines = execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' }).split('\n');
  return lines.filter((l) => !l.startsWith('Z') && words.every((w) => l.includes(w)));
};

const assertGone = async ({ driver, display }) => {
  await assert.rejects(fetch(`${driver}/status`), 'the driver no longer answers');
  const port = new URL(driver).port;
  assert.deepEqual(running('WebKitWebDriver', `--port=${port}`), [], 'no WebKitWebDriver left');
  assert.equal(existsSync(`/tmp/.X11-unix/X${display.slice(1)}`), false, `Xvfb ${display} gone`);
};

if (selectedEngines().includes('webkit')) {
  test('a failing command: its exit code is passed on, and the driver and Xvfb end', async () => {
    const { given, exitCode } = await wrapped({ code: 3 });
    assert.equal(exitCode, 3);
    await assertGone(given);
  });

  for (const signal of ['SIGINT', 'SIGTERM']) {
    test(`${signal} while the command runs: it is passed on, and the driver and Xvfb end`, async () => {
      const { given, exitCode } = await wrapped({ signal });
      assert.equal(exitCode, 128 + (signal == 'SIGINT' ? 2 : 15));
      await assertGone(given);
    });
  }
}
