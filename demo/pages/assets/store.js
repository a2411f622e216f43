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
