/** The identities a browser request writes to, as keys: two requests that share one may touch the same profile. */
import { isIdentifier, normalizeEmail, normalizeVuid } from '../profile/rules';
import type { CheckedRecord } from '../profile/batch';

/** One `name\0value` key per identifier value in `records` (vuid, email, phone, custom `*_id` ...), each once. */
export function identityKeys(records: CheckedRecord[]): string[] {
  const keys = new Set<string>();
  for (const { attributes } of records) {
    for (const [name, value] of Object.entries(attributes)) {
      if (!isIdentifier(name) || value === null || value === '') continue;
      // Normalised as the profile store matches them, so `A@x.com` and `a@x.com` are one identity.
      const normal = name == 'email' && typeof value == 'string' ? normalizeEmail(value) : normalizeVuid(value);
      keys.add(`${name}\0${normal}`);
    }
  }
  return [...keys];
}
