/**
 * `idcapture/proxy/node`: the proxy on `node:http`. `toNodeListener` adapts the handler to a request listener;
 * `createNodeServer` also gives the server deliberate limits (timeouts, connections per IP, a body deadline).
 */
export { toNodeListener, type NodeListenerOptions } from './node-listener';
export { createNodeServer, type NodeServerOptions } from './node-server';
export { vuidRestore } from './node-restore';
