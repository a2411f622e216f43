// The floor: the least a durable identity snippet needs, ky.post to send and idb-keyval get/set to keep. Built by
// test/bench/bundles.js the way dist/idcapture.js is built, as the reference for its size and init time.
import ky from 'ky';
import { get, set } from 'idb-keyval';

window.floor = { post: (url, json) => ky.post(url, { json }), get, set };
