/** Index of the first entry with sendTime >= cursor (entries.length when none). */
export function lowerBound(messages: readonly { readonly sendTime: bigint }[], cursor: bigint): number {
  let low = 0;
  let high = messages.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (messages[middle]!.sendTime < cursor) low = middle + 1;
    else high = middle;
  }
  return low;
}
