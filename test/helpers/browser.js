import { chromium } from 'playwright';
import { chromiumLaunchOptions } from '../browsers.js';

/** Launches the suite's Chromium (see test/browsers.js). */
export const launchBrowser = () => chromium.launch(chromiumLaunchOptions);
