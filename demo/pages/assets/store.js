// The storefront's own behaviour, as any shop would have it. Nothing here calls idcapture: it captures the forms itself.
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const show = (id) => $(id) && ($(id).hidden = false);
  if (params.has('welcome')) show('welcome');
  if (params.has('ordered')) show('ordered');

  const postJson = (path, form) =>
    fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(Object.fromEntries(new FormData(form))) });

  // A footer widget that subscribes in place, without leaving the page.
  $('newsletter')?.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    postJson('/demo/newsletter', form).catch(() => {});
    form.hidden = true;
    show('newsletter-thanks');
  });

  // Offline, a classic form post would only reach the browser's error page: keep the visitor here instead.
  $('register')?.addEventListener('submit', (event) => {
    if (navigator.onLine) return;
    event.preventDefault();
    show('offline-note');
  });

  // Signing in: the back end answers an identity token for this email and browser; the page hands it to idcapture,
  // which then sends it with every upsert for this email (these fields, and later form captures), so the proxy lets
  // them set the address. Without it the same upsert would be cut to the email and the names.
  $('signin')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const { email, first_name, street1, city } = Object.fromEntries(new FormData(form));
    const answer = await fetch('/demo/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
    if (!answer.ok) return alert((await answer.json()).error);
    const { token } = await answer.json();
    window.idcapture.push(['setIdentityToken', token], ['identify', { email }, { first_name, street1, city }]);
    $('signed-in').textContent = `Signed in as ${email}: your profile updates are verified.`;
    show('signed-in');
  });
  $('signout')?.addEventListener('click', () => {
    void fetch('/demo/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    window.idcapture.push(['reset']);
    $('signed-in').hidden = true;
  });

  // The single-page app: sent with fetch, the page never reloads.
  $('contact')?.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    postJson('/demo/contact', form)
      .then(() => {
        form.reset();
        show('sent');
      })
      .catch(() => alert('You are offline; try again when you are back online.'));
  });
})();
