/**
 * `idcapture/emulator`: a local stand-in for the Zaius/ODP `/v3/profiles` API, for the demo and the tests.
 * Node only; never imported by the browser client or the proxy.
 */
export { createEmulator, type Emulator } from './emulator';
export type { EmulatorStats } from './state';
export { startEmulator, type StartOptions, type RunningEmulator } from './server';
export type { EmulatorOptions } from './options';
export type { Faults } from './faults';
export type { ProfileView } from './store';
export type { Clock } from '../upstream/clock';
