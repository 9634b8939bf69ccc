/** Current time in microseconds since the Unix epoch. */
export type MicrosecondClock = () => bigint;

export const systemClock: MicrosecondClock = () =>
  BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
