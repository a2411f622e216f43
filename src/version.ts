/** idcapture's version, as package.json says it (test/node/release.test.js holds the two together). */
export const VERSION = '0.1.0';
