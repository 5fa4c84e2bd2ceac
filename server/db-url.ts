/** mysql:// URL parsing, kept free of the Prisma client so the migration runner can load without it. */

export interface DbConnectionSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Connection settings from a mysql:// (or mariadb://) URL. @throws Error on another scheme. */
export function parseDatabaseUrl(url: string): DbConnectionSettings {
  const u = new URL(url);
  if (!/^(mysql|mariadb):$/.test(u.protocol)) throw new Error(`DATABASE_URL must start with mysql:// (got ${u.protocol})`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password || ''),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
}
