/** A fake clock and sleep for code that takes both as parameters: sleeping advances the clock, nothing really waits. */
export function fakeTime(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    /** Every sleep asked for, in order. */
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += Math.max(0, ms);
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}
