// The idcapture inspector: a drawer on every demo page showing, live, what the snippet does. It reads the client only
// through its public API and events (window.idcapture once loaded), the browser's resource timings for the requests,
// and the demo server's /demo/ routes for the profile (looked up server-side with idcapture/server).
(() => {
  const KEY = { open: 'demo:inspector', consent: 'demo:consent', offline: 'demo:offline', pending: 'demo:pending', activity: 'demo:activity' };
  const store = {
    get: (key, fallback) => {
      try {
        return JSON.parse(localStorage.getItem(key)) ?? fallback;
      } catch {
        return fallback;
      }
    },
    set: (key, value) => localStorage.setItem(key, JSON.stringify(value)),
  };
  const esc = (text) => String(text).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const clock = (at = Date.now()) => new Date(at).toTimeString().slice(0, 8);
  const IDENTIFIER = /^(vuid|email|phone)$|_(id|hash|number|token|alias|address|key)$/;

  // ---- Network: "Go offline" does for this page what DevTools' offline switch does: fetch fails, onLine is false.
  const realFetch = window.fetch.bind(window);
  const nativeOnLine = Object.getOwnPropertyDescriptor(Navigator.prototype, 'onLine').get;
  let simulatedOffline = store.get(KEY.offline, false);
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => !simulatedOffline && nativeOnLine.call(navigator) });
  const toEndpoint = (input) => new URL(input instanceof Request ? input.url : String(input), location.href).pathname == '/api/profiles';
  // The page's fetch, which the snippet looks up at each request: offline when switched so here, and each request to
  // the endpoint timed with its status for the activity list.
  // A form that really submits takes the page away, and the browser aborts what this page still had in flight: no
  // failure, the upserts stay queued and the next page sends them (its keepalive hand-off may already have).
  let leaving = false;
  addEventListener('submit', (event) => (leaving ||= !event.defaultPrevented));
  addEventListener('pagehide', () => (leaving = true));
  addEventListener('pageshow', () => (leaving = false));
  /** What the proxy took out of an accepted batch, and why (docs/proxy.md, Answers; docs/verified-identity.md). */
  const trimmed = async (response) => {
    const detail = await response.clone().json().then((body) => body.detail ?? {}, () => ({}));
    const parts = [];
    if (detail.removed?.length) parts.push(`removed ${detail.removed.join(', ')} (not in the proxy's allowedAttributes)`);
    if (detail.reduced?.length) parts.push(`reduced: ${detail.reduced.join(', ')} left out (no valid identity token: a stranger may not set an address, clear a field or tie a vuid to an email; sign in to write them)`);
    return parts.join('; ');
  };
  window.fetch = async (input, init) => {
    const timed = toEndpoint(input);
    const started = performance.now();
    const took = () => `${Math.round(performance.now() - started)} ms`;
    try {
      if (simulatedOffline) throw new TypeError('Failed to fetch (offline, switched in the inspector)');
      const response = await realFetch(input, init);
      if (timed) {
        const what = response.ok ? await trimmed(response) : '';
        note(`POST /api/profiles → ${response.status} in ${took()}${init?.keepalive ? ' (keepalive)' : ''}${what ? `: ${what}` : ''}`, !response.ok ? 'bad' : what ? 'warn' : 'ok');
      }
      return response;
    } catch (error) {
      if (timed && (leaving || error?.name == 'AbortError')) note(`POST /api/profiles → ended by the page's navigation after ${took()}: still queued, the next page sends it`);
      else if (timed) note(`POST /api/profiles → no answer after ${took()} (${simulatedOffline || !navigator.onLine ? 'offline' : 'network error'})`, 'bad');
      throw error;
    }
  };

  // ---- Consent: the demo's stand-in for a consent banner, applied on every page as a CMP would.
  const tag = document.querySelector('script[src$="idcapture.js"]');
  const gpc = navigator.globalPrivacyControl === true;
  // A page that names a consent source (data-consent-source) takes consent from its platform: the banner's choice is
  // not replayed over it, and the drawer shows the source's last answer, subscribed to before the tag has run.
  const source = tag?.dataset.consentSource;
  let lastAnswer = null;
  let consent = source ? (gpc ? 'denied' : 'pending') : (store.get(KEY.consent, null) ?? tag?.dataset.consent ?? (gpc ? 'denied' : 'granted'));
  if (store.get(KEY.consent, null) && !source) window.idcapture.push(['setConsent', consent]);
  if (source) {
    window.idcapture.push(['on', 'consent', ({ state, answer }) => {
      lastAnswer = answer;
      consent = state;
      note(`consent source: ${answer} → ${state}`, state == 'granted' ? 'ok' : 'warn');
    }]);
  }

  // ---- The pending upserts, mirrored from the client's events ('queued', 'sent', 'drop'), kept across pages.
  let pending = store.get(KEY.pending, []);
  let activity = store.get(KEY.activity, []);
  let profile = { state: 'loading' };
  let twin;
  let faults = null;
  let upstream = '';
  const same = (a, b) => {
    const ids = (u) => JSON.stringify(Object.keys(u.attributes).filter((k) => IDENTIFIER.test(k)).sort().map((k) => [k, u.attributes[k]]));
    return ids(a) == ids(b);
  };
  const note = (text, tone = '') => {
    activity = [{ at: Date.now(), text, tone }, ...activity].slice(0, 14);
    store.set(KEY.activity, activity);
    render();
  };
  const savePending = () => store.set(KEY.pending, pending);

  // ---- The drawer.
  const toggle = document.createElement('button');
  toggle.id = 'idc-toggle';
  const panel = document.createElement('aside');
  panel.id = 'idc-inspector';
  panel.setAttribute('aria-label', 'idcapture inspector');
  document.body.append(toggle, panel);
  const setOpen = (open, animate = true) => {
    // Opened on arrival (it was open on the last page): in place at once, not sliding in on every page.
    if (!animate) panel.style.transition = toggle.style.transition = 'none';
    panel.classList.toggle('open', open);
    document.documentElement.classList.toggle('idc-open', open);
    toggle.textContent = '';
    toggle.innerHTML = `<span class="dot"></span>${open ? 'Close inspector' : 'idcapture inspector'}`;
    // Kept for this tab's next pages, not across a new visit: sessionStorage.
    sessionStorage.setItem(KEY.open, open);
    if (open) refreshProfile();
  };
  toggle.addEventListener('click', () => setOpen(!panel.classList.contains('open')));

  const pretty = (value) =>
    esc(JSON.stringify(value, null, 2)).replace(/&#34;([a-z0-9_]+)&#34;:/g, '<span class="k">"$1"</span>:').replace(/: &#34;(.*?)&#34;/g, ': <span class="s">"$1"</span>');
  const pressed = (on) => `aria-pressed="${on}"`;

  /** What the demo server says of the vuid's HttpOnly twin, which no script can read (README, serverCookie). */
  const TWIN = {
    none: '<span class="pill warn">none</span> set by the proxy after consent',
    present: '<span class="pill ok">present</span> HttpOnly, survives Safari\'s 7-day wipe',
    restored: '<span class="pill ok">restored</span> the vuid cookie came back from it',
  };

  function render() {
    const client = typeof window.idcapture?.on == 'function' ? window.idcapture : undefined;
    const online = navigator.onLine;
    toggle.classList.toggle('offline', !online);
    toggle.classList.toggle('open', panel.classList.contains('open'));
    const scroll = panel.querySelector('.body')?.scrollTop ?? 0;
    panel.innerHTML = `
      <header><b>idcapture inspector</b><small>live · this visitor</small></header>
      <div class="body">
        <section data-part="visitor"><h4>Visitor</h4><dl>
          <dt>vuid</dt><dd data-field="vuid">${client ? esc(client.vuid) : '<span class="warn">loading…</span>'}</dd>
          <dt>server twin</dt><dd data-field="twin">${TWIN[twin] ?? '<span class="warn">looking…</span>'}</dd>
          <dt>consent</dt><dd data-field="consent"><span class="pill ${consent == 'granted' ? 'ok' : 'warn'}">${esc(consent)}</span></dd>
          <dt>source</dt><dd data-field="consent-source">${source ? `${esc(source)} · ${esc(lastAnswer ?? 'no answer yet')}` : 'none: the buttons below stand in for a banner'}</dd>
          <dt>network</dt><dd data-field="network"><span class="pill ${online ? 'ok' : 'warn'}">${online ? 'online' : 'offline'}</span>${simulatedOffline ? ' (inspector)' : ''}</dd>
        </dl>
        <div class="buttons">
          <button data-action="network">${simulatedOffline ? 'Go online' : 'Go offline'}</button>
          <button data-action="consent" data-value="granted" ${pressed(consent == 'granted')}>Grant</button>
          <button data-action="consent" data-value="pending" ${pressed(consent == 'pending')}>Pending</button>
          <button data-action="consent" data-value="denied" ${pressed(consent == 'denied')}>Deny</button>
          <button data-action="reset">Reset identity</button>
        </div>
        <div class="hint">DevTools › Network › Offline works too: the snippet cannot tell the difference.</div></section>

        <section data-part="queue"><h4>Queue · <span data-field="queue-count">${pending.length}</span> pending</h4>
          ${pending.length ? `<ol>${pending.map((u) => `<li>${esc(Object.entries(u.attributes).filter(([k]) => k != 'vuid').map(([k, v]) => `${k}=${v}`).join(' ') || '(vuid only)')}</li>`).join('')}</ol>` : '<div class="hint">Empty: everything captured has been acknowledged.</div>'}
          <div class="buttons"><button data-action="flush">Flush now</button></div></section>

        <section data-part="activity"><h4>Activity: captures, requests, retries</h4>
          ${activity.length ? `<ol>${activity.map((a) => `<li><time>${clock(a.at)}</time><span class="${a.tone}">${esc(a.text)}</span></li>`).join('')}</ol>` : '<div class="hint">Nothing sent yet. Submit a form on this page.</div>'}</section>

        <section data-part="profile"><h4>Profile in ${esc(upstream || 'the profiles API')}</h4>
          <div data-field="profile">${
            profile.state == 'found' ? `<pre>${pretty(profile.profile)}</pre>`
            : profile.state == 'none' ? '<div class="hint">No profile for this email yet.</div>'
            : profile.state == 'anonymous' ? `<div class="hint" data-field="anonymous">You are not signed in. What you type here is still sent, as a stranger's: the proxy keeps the email and the name, and leaves out the rest (an address, your vuid next to the email), since anyone could claim any email; the activity above says what it left out. So a newsletter signup makes a profile for that email, not tied to this visitor, and not shown here. Sign in (Account page) and the same forms write everything, tied to this vuid. This view reads the signed-in identity only, never by the vuid, which is no secret.</div>`
            : profile.state == 'error' ? `<div class="bad">${esc(profile.error)}</div>`
            : '<div class="hint">Looking it up…</div>'}</div>
          <div class="hint">Read by the demo server with idcapture/server (getProfile by the signed-in email); the browser never calls the API. What this drawer shows: <a href="/docs/demo.md" target="_blank">docs/demo.md</a>; the proxy's answers: <a href="/docs/proxy.md#answers" target="_blank">docs/proxy.md</a>.</div></section>

        ${faults === null ? '' : `<section data-part="faults"><h4>Upstream faults (emulator)</h4><div class="buttons">
          ${[['off', 'None'], ['errors', '500s (half)'], ['throttle', '429 bursts'], ['slow', 'Latency 1.5–3 s']].map(([v, label]) => `<button data-action="faults" data-value="${v}" ${pressed(faults == v)}>${label}</button>`).join('')}
        </div><div class="hint">The proxy answers 502/503/504 and the snippet backs off and retries; nothing is lost.</div></section>`}
      </div>`;
    panel.querySelector('.body').scrollTop = scroll;
  }

  panel.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const { action, value } = button.dataset;
    const client = window.idcapture;
    if (action == 'network') {
      simulatedOffline = !simulatedOffline;
      store.set(KEY.offline, simulatedOffline);
      // The events the browser fires itself when the connection changes; the snippet listens for them.
      if (navigator.onLine == simulatedOffline) dispatchEvent(new Event(simulatedOffline ? 'offline' : 'online'));
      render();
    } else if (action == 'consent') {
      // Withdrawn consent empties the queue (the client forgets what it had not sent).
      if (consent == 'granted' && value == 'denied') (pending = []), savePending();
      consent = value;
      store.set(KEY.consent, value);
      client.push(['setConsent', value]);
      note(`consent → ${value}`);
    } else if (action == 'reset' && typeof client.reset == 'function') {
      client.reset();
      note(`reset: new vuid ${client.vuid.slice(0, 8)}…`);
      refreshProfile();
    } else if (action == 'flush' && typeof client.flush == 'function') {
      client.flush().then((r) => {
        // The client's own count wins over the mirror: it also knows upserts queued by other tabs or earlier pages.
        pending = pending.slice(Math.max(0, pending.length - r.pending));
        savePending();
        note(`flush(): sent ${r.sent}, pending ${r.pending}, dropped ${r.dropped}`, r.pending ? 'warn' : 'ok');
      }, (error) => note(`flush() failed: ${error.message}`, 'bad'));
    } else if (action == 'faults') {
      realFetch('/demo/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ preset: value }) })
        .then((r) => r.json())
        .then((r) => ((faults = r.preset ?? faults), note(`upstream faults → ${faults}`, faults == 'off' ? '' : 'warn')));
    }
  });
  addEventListener('online', render);
  addEventListener('offline', render);

  // ---- The profile the API holds for this visitor, read by the demo server (never by the browser).
  let looking;
  function refreshProfile() {
    if (looking || !panel.classList.contains('open')) return;
    looking = realFetch('/demo/profile', { cache: 'no-store' })
      .then((r) => r.json())
      .then((r) => ((twin = r.twin), (profile = r.error ? { state: 'error', error: r.error } : r.profile ? { state: 'found', profile: r.profile } : { state: r.email ? 'none' : 'anonymous' })))
      .catch(() => (profile = { state: 'error', error: 'The demo server cannot be reached.' }))
      .finally(() => ((looking = undefined), render()));
  }
  setInterval(refreshProfile, 3000);
  realFetch('/demo/status')
    .then((r) => r.json())
    .then((s) => ((upstream = s.upstream == 'emulator' ? 'the emulator' : s.upstream), (faults = s.faults), render()))
    .catch(() => {});

  // ---- The client's events, once the async tag has run.
  function attach() {
    const client = window.idcapture;
    if (typeof client?.on != 'function') return false;
    client.on('queued', ({ upsert }) => {
      const last = pending[pending.length - 1];
      // The client merges an upsert into the newest one when both name the same identifiers; so does the mirror.
      if (last && same(last, upsert)) pending[pending.length - 1] = { attributes: { ...last.attributes, ...upsert.attributes } };
      else pending.push(upsert);
      savePending();
      note(`queued ${Object.keys(upsert.attributes).filter((k) => k != 'vuid').join(', ')}`);
    });
    client.on('capture', ({ upsert, form }) => {
      const where = form ? `form${form.id ? `#${form.id}` : ''}` : 'an email field';
      note(`captured from ${where}: ${Object.keys(upsert.attributes).filter((k) => k != 'vuid').join(', ')}`);
    });
    client.on('sent', ({ count }) => {
      pending = pending.slice(count);
      savePending();
      note(`sent: ${count} upsert${count == 1 ? '' : 's'} acknowledged`, 'ok');
      setTimeout(refreshProfile, 200);
    });
    client.on('retry', ({ delay, status }) => note(`retry in ${(delay / 1000).toFixed(1)} s (${status ?? 'network error'})`, 'warn'));
    client.on('drop', ({ upsert, reason }) => {
      pending = pending.filter((u) => JSON.stringify(u) != JSON.stringify(upsert));
      savePending();
      note(`dropped: ${reason}`, 'bad');
    });
    client.on('error', ({ error }) => note(`error: ${error?.message ?? error}`, 'bad'));
    // Offline, flush() sends nothing and says what is queued, upserts of earlier pages included.
    if (!navigator.onLine) client.flush().then((r) => ((pending = pending.slice(Math.max(0, pending.length - r.pending))), savePending(), render()));
    render();
    return true;
  }
  if (!attach()) tag?.addEventListener('load', attach, { once: true });
  setOpen(sessionStorage.getItem(KEY.open) == 'true', false);
  requestAnimationFrame(() => requestAnimationFrame(() => (panel.style.transition = toggle.style.transition = '')));
  render();
})();
