/**
 * The JSON API under /api/v1 (also mounted at /api for issue #2's paths), declared in one
 * registry (./registry.ts): authentication with per-person Bearer tokens, the permission table,
 * zod validation, enterprise isolation, and the OpenAPI document at /api/v1/openapi.json.
 * Errors: `{ code, message (zh), message_en }` with 400/401/403/404/409.
 *
 * Each module registers its own routes; add new ones in `buildApiRegistry`.
 */
import Router from '@koa/router';
import type { AppDeps } from '../../app';
import { ApiRegistry } from './registry';
import { registerAlertRoutes } from './alerts';
import { registerCheckRoutes } from './checks';
import { registerHazardRoutes } from './hazards';
import { registerFileRoutes } from './files';
import { registerMeRoutes } from './me';
import { registerShutdownRoutes } from './shutdowns';
import { registerListRoutes } from './lists';
import { registerLabelRoutes } from './labels';
import { registerMpRoutes } from './mp';

/**
 * Every API route, declared (also used by tests to walk all routes).
 * @param opts.upload the configured upload limits, shown in the OpenAPI document
 */
export function buildApiRegistry(opts: { upload?: { maxFiles: number; maxBytes: number } } = {}): ApiRegistry {
  const api = new ApiRegistry();
  registerMeRoutes(api);
  registerAlertRoutes(api);
  registerCheckRoutes(api);
  registerHazardRoutes(api);
  registerShutdownRoutes(api);
  registerFileRoutes(api, opts.upload);
  // before the lists: /lists/risk-units/labels.html must not be taken for /lists/risk-units/:id
  registerLabelRoutes(api);
  registerListRoutes(api);
  registerMpRoutes(api);
  return api;
}

export function apiRoutes(deps: AppDeps): Router {
  const registry = buildApiRegistry({ upload: deps.files });
  const routes = registry.router(deps);
  const r = new Router();
  // also under /api, where the same API is mounted (a new user tried that address first)
  r.get(['/api/v1/openapi.json', '/api/openapi.json'], (ctx) => {
    ctx.body = registry.openapi({ title: 'dualprev API', version: '1', serverUrl: `${deps.publicUrl}/api/v1` });
  });
  r.use('/api/v1', routes.routes(), routes.allowedMethods());
  r.use('/api', routes.routes(), routes.allowedMethods());
  return r;
}
