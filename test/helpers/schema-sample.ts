/**
 * A minimal value valid for a JSON Schema (as z.toJSONSchema writes it, draft 2020-12): required
 * properties only, plus the properties `idFor` knows (fields naming a row: riskUnitId, photos…),
 * which it fills with that row's id (or `[id]` for an array). Strings are Chinese text within the
 * length limits; local dates (YYYY-MM-DD patterns, format date) are 2026-12-31; numbers the lower
 * bound, or 1. Used by the authorisation matrix (bodies of every route) and the OpenAPI test.
 */
export type Json = Record<string, unknown>;

export interface SampleOptions {
  /** a row id for a field name, or undefined when the field names no row */
  idFor?: (field: string) => number | undefined;
  /** value of date-time strings (default 2026-11-30T03:00:00.000Z) */
  instant?: string;
}

export function sampleFromSchema(s: Json, opts: SampleOptions = {}, name = ''): unknown {
  const idFor = opts.idFor ?? (() => undefined);
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[k])) {
      const options = (s[k] as Json[]).filter((o) => o.type !== 'null');
      return sampleFromSchema(options[0] ?? {}, opts, name);
    }
  }
  if (Array.isArray(s.allOf)) return sampleFromSchema(Object.assign({}, ...(s.allOf as Json[])), opts, name);
  const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== 'null') : (s.type as string | undefined);
  const id = idFor(name);
  switch (type) {
    case 'object': {
      const out: Json = {};
      const required = (s.required ?? []) as string[];
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Json>)) {
        if (required.includes(k) || idFor(k) !== undefined) out[k] = sampleFromSchema(v, opts, k);
      }
      return out;
    }
    case 'array': {
      if (id !== undefined) return [id];
      return Array.from({ length: Number(s.minItems ?? 0) }, () => sampleFromSchema((s.items ?? {}) as Json, opts, name));
    }
    case 'integer':
    case 'number': {
      if (id !== undefined) return id;
      // z.number().int() states ±MAX_SAFE_INTEGER as bounds: treat those as unbounded
      const min = s.minimum !== undefined ? Number(s.minimum) : s.exclusiveMinimum !== undefined ? Number(s.exclusiveMinimum) + 1 : undefined;
      let v = min !== undefined && min > -1e9 ? min : 1;
      if (s.maximum !== undefined && v > Number(s.maximum)) v = Number(s.maximum);
      return v;
    }
    case 'boolean':
      return false;
    case 'string': {
      const pattern = String(s.pattern ?? '');
      if (s.format === 'date-time') return opts.instant ?? '2026-11-30T03:00:00.000Z';
      if (s.format === 'date' || pattern.includes('\\d{4}-\\d{2}-\\d{2}')) return '2026-12-31';
      if (pattern.includes('\\d{2}:\\d{2}')) return '08:00';
      let v = '接口测试';
      const min = Number(s.minLength ?? 1);
      while (v.length < min) v += '测';
      return s.maxLength !== undefined ? v.slice(0, Number(s.maxLength)) : v;
    }
    default:
      return id ?? '接口测试';
  }
}
