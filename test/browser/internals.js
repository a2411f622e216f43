// The client's internal modules, for the browser tests of its units: rollup builds this file into
// dist/test/internals.js, which is never packed (package.json "files"). Never import it from src.
export { answerOf, fit } from '../../src/client/answer';
export { createBackoff } from '../../src/client/backoff';
export { createClient } from '../../src/client/create';
