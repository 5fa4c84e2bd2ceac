/**
 * Process entry (`npm start` runs scripts/start.js, which generates the Prisma client, compiles
 * and runs this). Prepares what the process needs — migrations (AUTO_MIGRATE), the demo plant when
 * the database is empty (SEED_DEMO) — then starts the roles in ROLES (default api,scheduler,worker).
 *
 * SIGTERM/SIGINT: stop ticking, let workers finish their current job, close the HTTP server and
 * the pools; exit 0. If that takes longer than SHUTDOWN_TIMEOUT_MS (10 s), exit 1 anyway.
 */
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { migrate } from './migrate';
import { createRuntime, type Runtime } from './runtime';
import { isDatabaseEmpty, loadDemoPlant } from '../prisma/seed';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  const cfg = config;

  // Signal handlers first: a SIGTERM during migration or seeding must not kill the process half-way
  // through a migration; it is honoured as soon as the current step has finished.
  let rt: Runtime | null = null;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting');
      process.exit(1);
    }, cfg.shutdownTimeoutMs);
    force.unref();
    if (!rt) return; // still starting: main() stops after its current step
    rt.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const stopIfAsked = async (r: Runtime | null) => {
    if (!stopping) return false;
    if (r) await r.stop();
    log.info('stopped');
    process.exit(0);
  };

  log.info({ roles: config.roles, publicUrl: config.publicUrl }, 'starting dualprev');
  if (config.autoMigrate) {
    const { applied } = await migrate({ databaseUrl: config.databaseUrl, log: (m) => log.info(m) });
    log.info({ applied }, applied.length ? 'migrations applied' : 'database schema is current');
  }
  await stopIfAsked(null);
  const runtime = await createRuntime(config, log);
  if (config.seedDemo && (await isDatabaseEmpty(runtime.prisma))) {
    const r = await loadDemoPlant(runtime.prisma, { now: new Date() });
    log.info({ enterpriseId: r.enterpriseId }, 'database was empty: loaded the demo plant (set SEED_DEMO=false to skip)');
  }
  await stopIfAsked(runtime);
  await runtime.start();
  rt = runtime;
  if (config.roles.includes('api')) {
    log.info({ port: config.port }, `listening on ${config.host}:${config.port}`);
    log.info(`outbox: ${config.publicUrl}/outbox?token=${runtime.outboxToken}`);
  }
  if (stopping) {
    stopping = false;
    shutdown('SIGTERM');
  }
}

main().catch((err) => {
  process.stderr.write(`dualprev failed to start: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
