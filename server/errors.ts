/**
 * The one error type services throw for things a user did wrong or may not do. The error
 * middleware (app.ts) turns it into `{ code, message, message_en }` with the HTTP status; anything
 * else becomes a 500 without internals.
 */
export class AppError extends Error {
  constructor(
    public readonly status: number,
    /** machine-readable, snake_case, stable */
    public readonly code: string,
    /** for people: Chinese */
    public readonly messageZh: string,
    /** for people: English */
    public readonly messageEn: string,
    public readonly details?: unknown,
  ) {
    super(`${code}: ${messageEn}`);
  }
}

export const notFound = (what: string, zh: string) => new AppError(404, 'not_found', `${zh}不存在`, `${what} not found`);
export const forbidden = (zh: string, en: string) => new AppError(403, 'forbidden', zh, en);
export const conflict = (code: string, zh: string, en: string) => new AppError(409, code, zh, en);
export const badRequest = (code: string, zh: string, en: string, details?: unknown) => new AppError(400, code, zh, en, details);
