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

/** Sum of a histogram's `_count` over the series whose labels include `labels`. */
export function histogramCount(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (!family) return 0;
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.count ?? 0), 0);
}
