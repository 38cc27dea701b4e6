import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { contextOf, EnvelopeError, open, seal } from '../crypto/envelope.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { ConflictError, ForbiddenError, IntegrityError, NotFoundError, ValidationError } from '../errors.ts';
import {
  deleteAttachment, findAttachment, findAttachmentContent, insertAttachment, listAttachments, type AttachmentInfo,
} from '../store/attachments.ts';
import type { Principal } from '../types.ts';
import { taskFact, type TaskService } from './tasks.ts';

/** Largest attachment content, as for a deployment's resources. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

export interface NewAttachment {
  name: string | null;
  description: string | null;
  type: string | null;
  url: string | null;
  content: Buffer | null;
}

/** Where sealed content belongs, bound into its MAC: a copy moved to another attachment or task fails its check. */
const contextFor = (a: { id: string; task_id: string }) => contextOf('attachment', a.id, a.task_id);

/** An attachment's content opened and sealed again under the current key (the re-encryption command); IntegrityError if it fails its check. */
export function resealAttachment(keyring: Keyring, row: { id: string; task_id: string; process_instance_id: string; content: unknown }): { content: unknown; key_id: string } {
  let plain: Buffer;
  try {
    plain = open(keyring, row.content, contextFor(row));
  } catch (err) {
    if (err instanceof EnvelopeError) throw new IntegrityError(row.process_instance_id, `attachment:${row.id}`, err.reason, err.keyId);
    throw err;
  }
  const envelope = seal(keyring, plain, contextFor(row));
  return { content: envelope, key_id: envelope.kid };
}

function checkNew(a: NewAttachment): void {
  const text = (key: string, v: string | null, max: number) => {
    if (v != null && v.length > max) throw new ValidationError(`${key} 最长 ${max} 字符 / ${key} must be at most ${max} characters`);
  };
  text('attachment-name', a.name, 255);
  text('attachment-type', a.type, 255);
  text('attachment-description', a.description, 4000);
  if (a.url != null) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(a.url);
    } catch {
      // refused below
    }
    // A link is shown to everyone who sees the task: only web addresses, never javascript: or file:.
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || a.url.length > 2000) {
      throw new ValidationError('url 必须是 http 或 https 地址（最长 2000 字符）/ url must be an http or https address of at most 2000 characters');
    }
  }
  if (a.content == null && a.url == null) throw new ValidationError('附件需要 content 或 url / no content or url to remote content exists to create the task attachment');
}

/**
 * Task attachments (附件): who may see the task may list, read and add them
 * (adding only while it is open, as Camunda); deleting one is for whoever
 * added it and administrators, while the task is open. Content is sealed like File variables; its
 * reads are traced by the read trace, the changes here in their transaction.
 */
export function makeAttachmentService(db: Knex, tasks: TaskService, keyring: Keyring) {
  async function attachmentOf(taskId: string, id: string, principal: Principal): Promise<AttachmentInfo> {
    await tasks.visibleTask(taskId, principal);
    const found = await findAttachment(db, taskId, id);
    if (!found) throw new NotFoundError(`附件不存在 / task ${taskId} has no attachment ${id}`);
    return found;
  }
  return {
    async list(taskId: string, principal: Principal): Promise<AttachmentInfo[]> {
      await tasks.visibleTask(taskId, principal);
      return listAttachments(db, taskId);
    },
    get: attachmentOf,
    async create(taskId: string, input: NewAttachment, principal: Principal): Promise<AttachmentInfo> {
      checkNew(input);
      const task = await tasks.openTask(taskId, principal);
      const id = randomUUID();
      const envelope = input.content ? seal(keyring, input.content, contextFor({ id, task_id: task.id })) : null;
      let row: AttachmentInfo | undefined;
      const fact = taskFact(task, 'AddAttachment', { attachmentId: id, name: input.name, url: input.url, size: input.content?.length ?? null });
      // Like a comment, an attachment is a change of the open task: its `update` listeners run with it.
      await tasks.commitUpdate(task, principal, fact, async (trx) => {
        row = await insertAttachment(trx, {
          id, task_id: task.id, process_instance_id: task.process_instance_id, user_id: principal.userId, name: input.name, description: input.description,
          type: input.type, url: input.url, content: envelope, key_id: envelope?.kid ?? null, size: input.content?.length ?? null,
        });
      });
      return row!;
    },
    /** The opened content, with the attachment it belongs to; 404 for a link without content. */
    async content(taskId: string, id: string, principal: Principal): Promise<{ attachment: AttachmentInfo; bytes: Buffer }> {
      const attachment = await attachmentOf(taskId, id, principal);
      const stored = await findAttachmentContent(db, taskId, id);
      if (stored?.content == null) throw new NotFoundError(`附件 ${id} 没有内容 / attachment content for attachment with id '${id}' does not exist for task id '${taskId}'`);
      try {
        return { attachment, bytes: open(keyring, stored.content, contextFor(attachment)) };
      } catch (err) {
        if (err instanceof EnvelopeError) throw new IntegrityError(attachment.process_instance_id, `attachment:${id}`, err.reason, err.keyId);
        throw err;
      }
    },
    async remove(taskId: string, id: string, principal: Principal): Promise<void> {
      const task = await tasks.visibleTask(taskId, principal);
      const found = await findAttachment(db, taskId, id);
      // Only while the task is open: once done, what was attached to it is part of the record.
      if (found && task.end_time) throw new ValidationError(`任务已结束，附件不能删除 / task ${taskId} has ended: its attachments can no longer be deleted`);
      if (!found) throw new NotFoundError(`附件不存在 / task ${taskId} has no attachment ${id}`);
      if (!principal.isAdmin && found.user_id !== principal.userId) throw new ForbiddenError(`只有添加人或管理员可以删除附件 / only who added attachment ${id} or an administrator may delete it`);
      const fact = taskFact(task, 'DeleteAttachment', { attachmentId: id, name: found.name, url: found.url, size: found.size, addedBy: found.user_id });
      await tasks.commitUpdate(task, principal, fact, async (trx) => {
        if (!(await deleteAttachment(trx, taskId, id))) throw new ConflictError(`附件已被删除 / attachment ${id} was deleted concurrently`);
      });
    },
  };
}

export type AttachmentService = ReturnType<typeof makeAttachmentService>;
