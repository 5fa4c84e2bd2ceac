/** JSON logs (pino). One root logger per process; request and job loggers are children of it. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, name = 'dualprev'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
