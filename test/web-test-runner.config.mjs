import { playwrightLauncher } from '@web/test-runner-playwright';
import { chromiumLaunchOptions } from './browsers.js';

export default {
  rootDir: '.',
  files: ['test/browser/**/*.test.js'],
  nodeResolve: true,
  concurrency: 1,
  browsers: [playwrightLauncher({ product: 'chromium', launchOptions: chromiumLaunchOptions })],
  testFramework: { config: { timeout: 20000 } },
};
