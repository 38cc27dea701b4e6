import busboy from 'busboy';
import type { Context } from 'koa';
import { ValidationError } from '../errors.ts';

export interface MultipartFile {
  field: string;
  /** The part's filename, else its field name: Camunda names resources this way. */
  name: string;
  bytes: Buffer;
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
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: ctx.req.headers, limits: { fileSize: limits.fileSize, files: limits.files, fields: 50 }, defParamCharset: 'utf8' });
    } catch (err) {
      reject(new ValidationError(`无法解析 multipart 请求 / cannot read the multipart body: ${(err as Error).message}`));
      return;
    }
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        failure ??= new ValidationError(`资源 ${info.filename ?? field} 过大 / resource ${info.filename ?? field} exceeds ${limits.fileSize} bytes`);
      });
      stream.on('close', () => files.push({ field, name: info.filename || field, bytes: Buffer.concat(chunks) }));
    });
    parser.on('filesLimit', () => {
      failure ??= new ValidationError(`资源过多 / more than ${limits.files} resources`);
    });
    parser.on('error', (err: Error) => reject(new ValidationError(`无法解析 multipart 请求 / cannot read the multipart body: ${err.message}`)));
    parser.on('close', () => (failure ? reject(failure) : resolve({ fields, files })));
    ctx.req.pipe(parser);
  });
}
