// The client's share of the vuid's server twin: on a denial and on reset() it asks its endpoint to expire the twin
// (one DELETE, keepalive), when the endpoint is on the page's own origin; a proxy on another origin never gets the
// cookie, so it is not asked. The requests go out for real (the fetch given records, then passes them on).
import { createIdCapture } from '../../dist/index.js';
import { deepEqual } from './assert.js';
import { clearIdentity, uniqueEndpoint } from './helpers.js';

const api = (await (await fetch('/__backend/api')).json()).url;

/** A fetch that notes `METHOD url keepalive` of each request, then sends it. */
function recording() {
  const seen = [];
  const send = (input, init = {}) => {
    seen.push(`${init.method ?? 'GET'} ${input}${init.keepalive ? ' keepalive' : ''}`);
    return fetch(input, init);
  };
  return { seen, send };
}
const deletes = (seen) => seen.filter((line) => line.startsWith('DELETE'));

describe('the server twin, from the client', () => {
  beforeEach(() => clearIdentity());

  it('reset() sends one DELETE to a same-origin endpoint', () => {
    const endpoint = uniqueEndpoint();
    const { seen, send } = recording();
    createIdCapture({ endpoint, fetch: send, autocapture: false }).reset();
    deepEqual(deletes(seen), [`DELETE ${endpoint} keepalive`]);
  });

  it('a denial sends one DELETE; pending and granted send none', () => {
    const endpoint = uniqueEndpoint();
    const { seen, send } = recording();
    const idc = createIdCapture({ endpoint, fetch: send, autocapture: false, consent: 'pending' });
    idc.setConsent('granted');
    idc.setConsent('pending');
    deepEqual(deletes(seen), []);
    idc.setConsent('denied');
    deepEqual(deletes(seen), [`DELETE ${endpoint} keepalive`]);
    localStorage.removeItem('idcapture-consent');
  });

  it('an endpoint on another origin is not asked', () => {
    const { seen, send } = recording();
    const idc = createIdCapture({ endpoint: `${api}/api/profiles`, fetch: send, autocapture: false, consent: 'pending' });
    idc.reset();
    idc.setConsent('denied');
    deepEqual(deletes(seen), []);
    localStorage.removeItem('idcapture-consent');
  });
});
