// The defaults of every entry point, for test/node/defaults-documented.test.js to check the README and the `@default`
// lines against: rollup builds this file into dist/test/node-internals.js, which is never packed (package.json
// "files"). Never import it from src.
import { defaults as clientOptionDefaults } from '../../src/client/options';
import { LINK_PARAMETER } from '../../src/client/link-parameter';
// The link parameter's default lives beside the script tag's check of it (src/client/link-parameter.ts), out of the
// defaults object the tag spreads: the tag carries only the name.
export const clientDefaults = { ...clientOptionDefaults, linkParameter: LINK_PARAMETER };
export { defaults as proxyDefaults } from '../../src/proxy/options';
export { serverCookieDefaults } from '../../src/proxy/server-cookie';
export { edgeDefaults } from '../../src/edge/options';
export { defaults as coalesceDefaults } from '../../src/proxy/coalesce';
export { defaults as sharedDefaults } from '../../src/proxy/shared/store';
export { defaults as nodeServerDefaults } from '../../src/proxy/node-server';
export { defaults as serverClientDefaults } from '../../src/server/options';
export { defaults as emulatorDefaults } from '../../src/emulator/options';
export { defaults as tcfDefaults } from '../../src/consent/tcf';
export { defaults as gcmDefaults } from '../../src/consent/gcm';
export { defaults as onetrustDefaults } from '../../src/consent/onetrust';
export { defaults as cookiebotDefaults } from '../../src/consent/cookiebot';
export { serverDefaults as startEmulatorDefaults } from '../../src/emulator/server';
export { systemClock } from '../../src/upstream/clock';
export { DEFAULT_FIELDS, DEFAULT_IDENTIFIERS } from '../../src/profile/rules';
// The pace every upstream request keeps, for test/node/pacer.test.js to drive on a clock of its own.
export { createPacer } from '../../src/upstream/pacer';
