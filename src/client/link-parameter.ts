/** The query parameter of a signed link token when `linkParameter` does not name another (issue 26). */
export const LINK_PARAMETER = 'idc';
