// A store's Worker whose writer object has one more door, for test/node/proxy-durable-object.test.js (which bundles
// it): GET /__stored answers what the writer's storage holds (capture-time entries, and the alarm that sweeps them).
import { createEdge, ProfileWriter } from '../../../dist/edge.js';

const edge = createEdge((env) => ({
  apiKey: env.ZAIUS_API_KEY,
  allowedOrigins: [env.ALLOWED_ORIGINS],
  upstream: env.UPSTREAM,
  maxAgeDays: Number(env.MAX_AGE_DAYS),
  verify: false,
}));

export default {
  fetch(request, env) {
    if (new URL(request.url).pathname != '/__stored') return edge.fetch(request, env);
    return env.PROFILE_WRITER.get(env.PROFILE_WRITER.idFromName('profiles')).fetch(request);
  },
};

export class Writer extends ProfileWriter {
  constructor(state, env) {
    super(state, env);
    this.storage = state.storage;
  }
  async fetch(request) {
    if (new URL(request.url).pathname != '/__stored') return super.fetch(request);
    const entries = await this.storage.list({ prefix: 'newest:' });
    return Response.json({ entries: entries.size, alarm: await this.storage.getAlarm() });
  }
}
