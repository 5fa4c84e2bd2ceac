/**
 * Where the server is. A real deployment sets API_BASE in miniprogram/env.ts to its HTTPS origin
 * + /api/v1 (the domain must be on the mini-program's request/uploadFile/downloadFile allow-lists
 * in the WeChat admin console); tests call configure() with their local server.
 */
import { API_BASE } from '../env';

export interface MpSettings {
  /** e.g. https://dualprev.example.com/api/v1 — no trailing slash */
  apiBase: string;
  /** ms per request before it counts as "no signal" */
  timeoutMs: number;
  /** ms per photo upload */
  uploadTimeoutMs: number;
}

let settings: MpSettings = { apiBase: API_BASE, timeoutMs: 15_000, uploadTimeoutMs: 60_000 };

export function getSettings(): MpSettings {
  return settings;
}

export function configure(s: Partial<MpSettings>): void {
  settings = { ...settings, ...s };
  settings.apiBase = settings.apiBase.replace(/\/+$/, '');
}
