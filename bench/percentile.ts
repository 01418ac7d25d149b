/** The p-th percentile of the values (nearest rank, no interpolation); the values are not changed. */
export const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
