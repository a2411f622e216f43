// Loaded as a file, not inline, so the page also runs under `script-src 'self'`. Records any CSP violation, and
// says when the tag has started.
window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
window.ready = new Promise((resolve) => addEventListener('load', resolve));
