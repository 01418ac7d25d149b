import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One metric family of a Prometheus text exposition, as prom2json shapes it. */
export type MetricFamily = {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[];
};

/** Parses a `/metrics` body with a real exposition parser (a malformed line throws). */
export function parseMetrics(text: string): Map<string, MetricFamily> {
  const families = (parsePrometheusTextFormat as unknown as (t: string) => MetricFamily[])(text);
  return new Map(families.map((f) => [f.name, f]));
}

/**
 * Sum of a histogram's `_count` samples whose labels include `labels`, read from the exposition text
 * (the parser above drops labels and counts of histograms whose `le` label comes first, as
 * prom-client writes them).
 */
export function histogramCount(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_count`)) continue;
    const match = /^[^{\s]+(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const found = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[2]);
  }
  return sum;
}
