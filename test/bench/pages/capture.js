// Loads the WooCommerce checkout fixture into the page; the benchmark submits it.
window.ready = Promise.all([
  new Promise((resolve) => addEventListener('load', resolve)),
  fetch('/test/fixtures/forms/woocommerce-checkout.html')
    .then((r) => r.text())
    .then((html) => (document.querySelector('#fixture').innerHTML = html)),
]);
