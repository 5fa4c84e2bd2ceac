/**
 * Deployment settings of the mini-program — edit before uploading a version (README「小程序」).
 * API_BASE: the server's public HTTPS origin + /api/v1 (PUBLIC_URL of the server). Its domain goes
 * on the allow-lists (request, uploadFile, downloadFile) in 微信公众平台 → 开发管理 → 服务器域名.
 */
export const API_BASE = 'https://dualprev.example.com/api/v1';
