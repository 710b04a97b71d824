// A small client for Prometheus' HTTP query API (GET /api/v1/query): one instant query, one number.
// "No data" and "unreachable" are told apart from a value, because a watch must treat both as
// inconclusive (pause and ask a person), never as healthy.

export type QueryResult =
  | { kind: 'value'; value: number }
  | { kind: 'no-data' }
  | { kind: 'unreachable'; error: string };

interface ApiAnswer {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Runs an instant query; a vector of several series is reduced to its highest value (the worst case). */
export async function queryPrometheus(baseUrl: string, expr: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<QueryResult> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', expr);
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 5_000);
  let answer: ApiAnswer;
  try {
    const res = await fetch(url, { signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout });
    answer = (await res.json().catch(() => ({ status: 'error', error: `HTTP ${res.status}` }))) as ApiAnswer;
    if (!res.ok || answer.status !== 'success') return { kind: 'unreachable', error: answer.error ?? `HTTP ${res.status}` };
  } catch (err) {
    return { kind: 'unreachable', error: (err as Error).message };
  }
  const values = samples(answer.data).filter((v) => Number.isFinite(v));
  return values.length === 0 ? { kind: 'no-data' } : { kind: 'value', value: Math.max(...values) };
}

function samples(data: ApiAnswer['data']): number[] {
  const result = data?.result;
  if (data?.resultType === 'scalar' && Array.isArray(result)) return [Number(result[1])];
  if (data?.resultType === 'vector' && Array.isArray(result)) return result.map((s: { value?: [number, string] }) => Number(s.value?.[1]));
  return [];
}

/** The query in Prometheus' graph page, for the note that says why a canary rolled back. */
export function graphUrl(baseUrl: string, expr: string, rangeMs: number): string {
  const url = new URL('graph', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('g0.expr', expr);
  url.searchParams.set('g0.tab', '0');
  url.searchParams.set('g0.range_input', `${Math.max(1, Math.ceil(rangeMs / 60_000))}m`);
  return url.toString();
}
