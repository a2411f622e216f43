// Type-level tests of `optionNames` (checked by `npm run typecheck`): an entry point's list of option names cannot
// drift from its options type.
import { optionNames } from '../../src/options/checks';

interface Options {
  required: string;
  withDefault?: number;
  withoutDefault?: () => void;
}
const defaults = { withDefault: 1 };

export const names: readonly ('required' | 'withDefault' | 'withoutDefault')[] = optionNames<Options>()(defaults, ['required', 'withoutDefault']);

// @ts-expect-error withoutDefault is in neither list
optionNames<Options>()(defaults, ['required']);
// @ts-expect-error misspelt is not an option
optionNames<Options>()(defaults, ['required', 'withoutDefault', 'misspelt']);
// @ts-expect-error the defaults name an option the type lacks
optionNames<Options>()({ ...defaults, stale: true }, ['required', 'withoutDefault']);
