/** The query parameter of a signed link token when `linkParameter` does not name another (issue 26). */
export const LINK_PARAMETER = 'idc';

/** Takes `parameter` out of the address bar, keeping the other parameters, the hash and the history state. */
export function takeParameter(parameter: string): string | null {
  const url = new URL(location.href);
  const value = url.searchParams.get(parameter);
  if (value === null) return null;
  url.searchParams.delete(parameter);
  history.replaceState(history.state, '', url.href);
  return value;
}
