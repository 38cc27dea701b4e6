import busboy from 'busboy';
import type { Context } from 'koa';
import { ValidationError } from '../errors.ts';
import { checkText } from '../well-formed.ts';

export interface MultipartFile {
  field: string;
  /** The part's filename, else its field name: Camunda names resources this way. */
  name: string;
  bytes: Buffer;
  /** The part's own filename, if it gave one. */
  filename?: string | undefined;
  /** The part's Content-Type (without parameters). */
  mimeType?: string | undefined;
}

export interface Multipart {
  fields: Record<string, string>;
  files: MultipartFile[];
}

export interface MultipartLimits {
  fileSize: number;
  files: number;
}

/**
 * Reads a whole multipart/form-data body into memory, within limits.
 * Deployment resources are small (diagrams, forms) and must be parsed
 * whole before anything is stored, so streaming them further gains nothing.
 */
export function readMultipart(ctx: Context, limits: MultipartLimits): Promise<Multipart> {
  if (!ctx.is('multipart/form-data')) {
    return Promise.reject(new ValidationError('请求必须是 multipart/form-data / the request must be multipart/form-data'));
  }
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: MultipartFile[] = [];
    let failure: Error | undefined;
    let settled = false;
    // Busboy, each file stream and the request can all report the same broken body (a truncated
    // upload makes the open file stream and the parser fail together): the first word decides.
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      if (!err) {
        resolve({ fields, files });
        return;
      }
      ctx.req.unpipe(parser);
      // What is left of the body is read and dropped, so the 400 reaches a client still sending.
      ctx.req.resume();
      reject(err);
    };
    const broken = (err: Error) => settle(new ValidationError(`无法解析 multipart 请求 / cannot read the multipart body: ${err.message}`));
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: ctx.req.headers, limits: { fileSize: limits.fileSize, files: limits.files, fields: 50 }, defParamCharset: 'utf8' });
    } catch (err) {
      reject(new ValidationError(`无法解析 multipart 请求 / cannot read the multipart body: ${(err as Error).message}`));
      return;
    }
    parser.on('field', (name, value) => {
      try {
        fields[checkText('表单字段名', 'a form field name', name)] = checkText(`表单字段 ${name} `, `form field ${name}`, value);
      } catch (err) {
        failure ??= err as Error;
      }
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      const name = info.filename || field;
      try {
        checkText('资源名', 'a resource name', name);
        checkText('表单字段名', 'a form field name', field);
      } catch (err) {
        failure ??= err as Error;
      }
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        failure ??= new ValidationError(`资源 ${name} 过大 / resource ${name} exceeds ${limits.fileSize} bytes`);
      });
      // Without a listener, a file stream's error (a body cut off inside this file) would end the process.
      stream.on('error', broken);
      stream.on('close', () => files.push({ field, name, bytes: Buffer.concat(chunks), filename: info.filename || undefined, mimeType: info.mimeType || undefined }));
    });
    parser.on('filesLimit', () => {
      failure ??= new ValidationError(`资源过多 / more than ${limits.files} resources`);
    });
    parser.on('error', broken);
    parser.on('close', () => settle(failure));
    ctx.req.on('error', broken);
    ctx.req.on('close', () => {
      if (!ctx.req.complete) settle(new ValidationError('请求体不完整 / the request body was cut off'));
    });
    ctx.req.pipe(parser);
  });
}
