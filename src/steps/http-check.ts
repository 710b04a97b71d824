// An HTTP health/smoke check: expected status, optionally a JSON field's value, with retries.

export interface HttpCheckResult {
  ok: boolean;
  attempts: number;
  status?: number;
  output: string;
  durationMs: number;
  cancelled: boolean;
}

export interface HttpCheckSpec {
  url: string;
  method: 'GET' | 'HEAD' | 'POST';
  expectStatus: number;
  json?: { path: string; equals: string | number | boolean };
  headers: Record<string, string>;
  retries: number;
  retryDelay: number;
  timeout: number;
}

function fieldAt(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);
}

async function attempt(spec: HttpCheckSpec, signal?: AbortSignal): Promise<{ ok: boolean; status?: number; line: string }> {
  const timeout = AbortSignal.timeout(spec.timeout);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const res = await fetch(spec.url, { method: spec.method, headers: spec.headers, signal: combined, redirect: 'manual' });
    const body = spec.method === 'HEAD' ? '' : await res.text();
    if (res.status !== spec.expectStatus) {
      return { ok: false, status: res.status, line: `${spec.method} ${spec.url} → ${res.status}, expected ${spec.expectStatus}${body ? `: ${body.slice(0, 300)}` : ''}` };
    }
    if (spec.json) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return { ok: false, status: res.status, line: `${spec.method} ${spec.url} → ${res.status}, but the body is not JSON: ${body.slice(0, 300)}` };
      }
      const actual = fieldAt(parsed, spec.json.path);
      if (actual !== spec.json.equals) {
        return { ok: false, status: res.status, line: `${spec.method} ${spec.url} → ${res.status}, ${spec.json.path} is ${JSON.stringify(actual)}, expected ${JSON.stringify(spec.json.equals)}` };
      }
      return { ok: true, status: res.status, line: `${spec.method} ${spec.url} → ${res.status}, ${spec.json.path} = ${JSON.stringify(actual)}` };
    }
    return { ok: true, status: res.status, line: `${spec.method} ${spec.url} → ${res.status}` };
  } catch (err) {
    const reason = timeout.aborted ? `no answer within ${spec.timeout} ms` : (err as Error).message;
    return { ok: false, line: `${spec.method} ${spec.url} failed: ${reason}` };
  }
}

export async function httpCheck(spec: HttpCheckSpec, signal?: AbortSignal): Promise<HttpCheckResult> {
  const started = Date.now();
  const lines: string[] = [];
  for (let i = 0; i <= spec.retries; i++) {
    if (signal?.aborted) return { ok: false, attempts: i, output: lines.join('\n'), durationMs: Date.now() - started, cancelled: true };
    const result = await attempt(spec, signal);
    lines.push(`attempt ${i + 1}/${spec.retries + 1}: ${result.line}`);
    if (result.ok) return { ok: true, attempts: i + 1, status: result.status, output: lines.join('\n'), durationMs: Date.now() - started, cancelled: false };
    if (i < spec.retries) {
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, spec.retryDelay);
        signal?.addEventListener('abort', () => (clearTimeout(t), ok()), { once: true });
      });
    }
  }
  return { ok: false, attempts: spec.retries + 1, output: lines.join('\n'), durationMs: Date.now() - started, cancelled: signal?.aborted ?? false };
}
