/** `GET /v3/profiles?<identifier>=<value>`: one profile found by exactly one identifier. */
import { isIdentifier, normalizeVuid } from '../profile/rules';
import { json, message } from './answers';
import type { ProfileStore } from './store';

/** Answers a profile read received at `now`; `known` says which fields the account declares. */
export function answerLookup(url: URL, now: number, known: (name: string) => boolean, store: ProfileStore): Response {
  const params = [...url.searchParams];
  if (params.length != 1) return message(400, now, 'Exactly one identifier query parameter is required.');
  const [[name, value]] = params;
  if (name != 'zaius_id' && !(isIdentifier(name) && known(name))) {
    return message(400, now, `\`${name}\` is not an identifier.`);
  }
  if (!value) return message(400, now, `Identifier \`${name}\` has no value.`);
  const attributes = store.find(name, name == 'vuid' ? normalizeVuid(value) : value);
  return attributes ? json(200, { attributes }) : message(404, now, `Unable to find profile for ${name} = ${value}`);
}
