import { checkField, isIdentifier, isObject, NO_IDENTIFIER, normalizeEmail, type FieldValue } from '../profile/rules';
import { ValidationError } from '../errors';
import type { Upsert } from './queue';
import { VERBOSE } from '../verbose';

/** Who the profile is: at least one of `email`, `phone` or a custom identifier such as `customer_id`. */
export type Identifiers = Record<string, string | number>;

/** Profile fields in lower snake_case, e.g. `first_name`; `null` clears a field. */
export type Attributes = Record<string, FieldValue>;

/** Builds the upsert for `identify()`, or throws a ValidationError naming the first bad field. */
export function buildUpsert(vuid: string, identifiers: unknown, attributes: unknown = {}): Upsert {
  if (!isObject(identifiers)) throw new ValidationError('identifiers', 'is not an object');
  if (!isObject(attributes)) throw new ValidationError('attributes', 'is not an object');
  for (const [field, value] of Object.entries(identifiers)) {
    const reason = !isIdentifier(field)
      ? VERBOSE ? 'is not an identifier (email, phone, vuid, *_id, *_key, ...)' : 'is not an identifier'
      : typeof value != 'string' && typeof value != 'number'
        ? 'is not a string or number'
        : checkField(field, value);
    if (reason) throw new ValidationError(field, reason);
  }
  // The merged fields below always hold the vuid, so the caller's own identifier is looked for here.
  if (!Object.values(identifiers).some((v) => v !== '')) {
    throw new ValidationError('identifiers', NO_IDENTIFIER);
  }
  const merged: Attributes = { vuid, ...attributes, ...(identifiers as Identifiers) };
  // The identifiers (and the vuid) make the upsert identified already: only each field's own rules are left.
  for (const [field, value] of Object.entries(merged)) {
    const reason = checkField(field, value);
    if (reason) throw new ValidationError(field, reason);
  }
  // A valid email is a non-empty string.
  if (merged.email) merged.email = normalizeEmail(merged.email as string);
  return { attributes: merged };
}

/** The payload of an identity token (a JWT), read but not checked: the signature is the proxy's to check. */
function claimsOf(token: string): Record<string, unknown> | undefined {
  try {
    const bytes = Uint8Array.from(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    // Unreadable: covers nothing.
  }
}

/**
 * Whether `token` names every identifier `upsert` carries (and its vuid, when it binds one). Only such a token is
 * sent with the upsert; any other would make the proxy refuse it, where without a token it is merely unverified.
 */
export function covers(token: string, { attributes }: Upsert): boolean {
  const claims = claimsOf(token);
  return (
    !!claims &&
    Object.entries(attributes).every(
      ([name, value]) =>
        // A token that binds no vuid covers any; the vuid is 32 hex digits already, trimmed like any other value.
        !isIdentifier(name) || value == null || value === '' || (name == 'vuid' && claims.vuid == null) || claims[name] == String(value).trim(),
    )
  );
}
