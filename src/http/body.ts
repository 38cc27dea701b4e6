import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { Context, Next } from 'koa';
import { UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { checkJson } from '../well-formed.ts';

export interface BodyRules {
  /** Largest body, counted after decompression (a small gzip body must not grow into a large one). */
  limit: number;
  /** Paths (lower-cased) whose route reads a multipart/form-data body itself (deployment/create): the stream is left to it. */
  multipartPaths?: ReadonlySet<string> | ((path: string) => boolean);
}

/** Content codings a JSON body may come in; anything else is refused with 415 before a byte is read. */
const DECODERS: Record<string, () => zlib.Gzip | zlib.Inflate | zlib.BrotliDecompress> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether the request carries a body at all: a chunked one, or a Content-Length other than 0. */
function hasBody(ctx: Context): boolean {
  const length = ctx.get('Content-Length');
  return ctx.get('Transfer-Encoding') !== '' || (length !== '' && length !== '0');
}

/** The declared charset, lower case, or '' when none is given. */
function charsetOf(ctx: Context): string {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(ctx.get('Content-Type'));
  return m ? m[1].toLowerCase() : '';
}

/** 413, in the shape the error middleware knows from Koa's body parsers. */
const tooLarge = (limit: number) => Object.assign(new Error(`request body exceeds ${limit} bytes`), { status: 413, expose: true, type: 'entity.too.large' });

/** Reads the (decoded) body as bytes, refusing more than `limit` bytes after decoding. */
function readBytes(ctx: Context, coding: string, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const source: Readable = coding === 'identity' ? ctx.req : ctx.req.pipe(DECODERS[coding]());
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      if (err) {
        if (source !== ctx.req) {
          ctx.req.unpipe(source as zlib.Gzip);
          source.destroy();
        }
        // The rest of the body is read and dropped, so the answer reaches a client still sending.
        ctx.req.resume();
        reject(err);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) settle(tooLarge(limit));
      else chunks.push(chunk);
    });
    source.on('end', () => settle(null));
    source.on('error', (err: Error) => settle(source === ctx.req
      ? new ValidationError(`请求体读取失败 / the request body could not be read: ${err.message}`)
      : new ValidationError(`请求体无法按 Content-Encoding ${coding} 解码 / the request body does not decode as ${coding}: ${err.message}`)));
    // A client that stops sending midway: what arrived is not the body it declared.
    ctx.req.on('close', () => {
      if (!ctx.req.complete) settle(new ValidationError('请求体不完整 / the request body was cut off'));
    });
    if (source !== ctx.req) ctx.req.on('error', (err) => settle(new ValidationError(`请求体读取失败 / the request body could not be read: ${err.message}`)));
  });
}

/**
 * The one body reader of both listeners. A body is read only where JSON is
 * expected and only as JSON: `application/json`, with no charset or UTF-8.
 * Any other type is 415 rather than being dropped (a text/plain body to
 * `/task/{id}/complete` would otherwise complete the task without its
 * variables). Content codings other than identity, gzip, deflate and br are
 * 415; a body that does not decode, is not UTF-8 or not JSON is 400; the
 * parsed body then passes checkJson (depth, NUL, lone surrogates).
 * A multipart route gets its stream untouched, and only multipart.
 */
export function makeBodyReader(rules: BodyRules) {
  const paths = rules.multipartPaths ?? new Set<string>();
  const multipart = typeof paths === 'function' ? { has: paths } : paths;
  return async function readBody(ctx: Context, next: Next): Promise<void> {
    if (!BODY_METHODS.has(ctx.method) || !hasBody(ctx)) return next();
    const coding = (ctx.get('Content-Encoding') || 'identity').trim().toLowerCase();
    // Media types are case-insensitive, and may have spaces before their parameters.
    const type = ctx.get('Content-Type').split(';')[0].trim().toLowerCase();
    // Lower-cased as the paths are given: routing matches the API prefix in any case (app.ts).
    if (multipart.has(ctx.path.replace(/\/$/, '').toLowerCase())) {
      if (type !== 'multipart/form-data') throw new UnsupportedMediaTypeError(`请求体必须是 multipart/form-data / the request body must be multipart/form-data, not ${type || 'untyped'}`);
      if (coding !== 'identity') throw new UnsupportedMediaTypeError(`multipart 请求体不支持 Content-Encoding ${coding} / a multipart body must not be content-encoded (${coding})`);
      return next();
    }
    if (type !== 'application/json') {
      throw new UnsupportedMediaTypeError(`请求体必须是 application/json / the request body must be application/json, not ${type || 'untyped'}`);
    }
    const charset = charsetOf(ctx);
    if (charset !== '' && charset !== 'utf-8' && charset !== 'utf8') {
      throw new UnsupportedMediaTypeError(`请求体的字符集必须是 UTF-8 / the request body's charset must be UTF-8, not ${charset}`);
    }
    if (coding !== 'identity' && !DECODERS[coding]) {
      throw new UnsupportedMediaTypeError(`不支持的 Content-Encoding ${coding} / unsupported Content-Encoding ${coding} (identity, gzip, deflate, br)`);
    }
    // A declared length beyond the limit is refused before a byte is read.
    if (coding === 'identity' && Number(ctx.get('Content-Length')) > rules.limit) throw tooLarge(rules.limit);
    const bytes = await readBytes(ctx, coding, rules.limit);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new ValidationError('请求体不是有效的 UTF-8 / the request body is not valid UTF-8');
    }
    if (text.trim() !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new ValidationError(`请求体不是有效的 JSON / request body is not valid JSON: ${(err as Error).message}`);
      }
      checkJson(parsed);
      (ctx.request as { body?: unknown }).body = parsed;
    }
    await next();
  };
}
