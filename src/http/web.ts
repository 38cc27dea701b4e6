import fs from 'node:fs';
import path from 'node:path';
import type { Context, Next } from 'koa';

/**
 * Where `npm run build` puts the staff web app: dist/web under the package's
 * root, found upwards from here, since this file runs from src/http in a
 * checkout and from dist/src/http in the compiled release.
 */
export const WEB_ROOT = path.join(packageRoot(import.meta.dirname), 'dist', 'web');

function packageRoot(from: string): string {
  for (let dir = from; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return path.resolve(from, '../..');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.woff': 'font/woff', '.woff2': 'font/woff2',
  '.ttf': 'font/ttf', '.eot': 'application/vnd.ms-fontobject', '.json': 'application/json', '.map': 'application/json',
};

/**
 * Paths the API owns, never answered with the web app: /engine-rest, /health,
 * and /public, the internet zone's prefix, which must stay 404 here. In any
 * case, as the router and authentication match them.
 */
const API = /^\/(engine-rest|health|public)(\/|$)/i;

/**
 * Serves the built web app: its files, and index.html for any other GET a
 * browser navigates to (client-side routes such as `/task/…`). Assets carry
 * content hashes, so they are cached for good; index.html never is.
 */
export function makeWebApp(root = WEB_ROOT) {
  const index = path.join(root, 'index.html');
  return async function webApp(ctx: Context, next: Next): Promise<void> {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || API.test(ctx.path)) return next();
    let file: string | undefined;
    let decoded: string;
    try {
      decoded = decodeURIComponent(ctx.path);
    } catch {
      return next();
    }
    const candidate = path.resolve(root, `.${decoded}`);
    if (candidate.startsWith(root + path.sep) && fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) file = candidate;
    else if (path.extname(decoded) && decoded.startsWith('/assets/')) return next(); // a missing asset is a 404, not the page
    else file = index;
    if (!fs.existsSync(file)) {
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = '网页未构建，请运行 npm run build:web / the web app is not built: run npm run build:web\n';
      return;
    }
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    // bpmn-js sets inline styles on the SVG; scripts come only from this server.
    ctx.set('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'");
    ctx.set('Cache-Control', file === index ? 'no-cache' : 'public, max-age=31536000, immutable');
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    ctx.body = fs.createReadStream(file);
  };
}
