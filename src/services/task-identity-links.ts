import { assertActive } from './suspension.ts';
import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, ValidationError } from '../errors.ts';
import { findGroup, findUser } from '../store/identity.ts';
import { changeTaskCandidate, updateOpenTask, type TaskRow } from '../store/tasks.ts';
import { PUBLIC_USER, SYSTEM_USER, type Principal } from '../types.ts';
import { taskFact, type TaskService } from './tasks.ts';

/** Camunda's IdentityLinkDto: a user or a group, and how it is linked to the task. */
export interface IdentityLink {
  userId: string | null;
  groupId: string | null;
  type: string;
}

/** The link types a task has here (Camunda's IdentityLinkType); custom types are not stored. */
const TYPES = ['assignee', 'owner', 'candidate'] as const;

/**
 * Checks a link as Camunda's IdentityLinkDto.validate does (a user or a
 * group, not both), and refuses up front what this server does not keep: a
 * type other than assignee, owner and candidate, or a group as assignee or owner.
 */
export function checkIdentityLink(body: Record<string, unknown>): IdentityLink {
  const text = (k: string) => {
    const v = body[k];
    if (v == null) return null;
    if (typeof v !== 'string' || !v) throw new ValidationError(`${k} 必须是非空文本 / ${k} must be a non-empty string`);
    return v;
  };
  const [userId, groupId, type] = [text('userId'), text('groupId'), text('type')];
  if (userId != null && groupId != null) throw new ValidationError('身份链接只能是用户或组之一 / Identity Link requires userId or groupId, but not both.');
  if (userId == null && groupId == null) throw new ValidationError('身份链接需要 userId 或 groupId / Identity Link requires userId or groupId.');
  if (!type || !(TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(`不支持的身份链接类型 ${type ?? '(无)'} / identity link type ${type ?? '(none)'} is not kept here: use ${TYPES.join(', ')}`);
  }
  if (groupId != null && type !== 'candidate') throw new ValidationError(`组只能是候选组 / a group can only be linked as candidate, not as ${type}`);
  return { userId, groupId, type };
}

/**
 * A task's identity links (Camunda's getIdentityLinksForTask): its
 * assignee, owner and candidates, and changing them. Who may see the task
 * may read them; the assignee follows set-assignee's rules; candidates and
 * the owner decide who sees and gets the task, so only administrators change them.
 */
export function makeTaskIdentityLinks(db: Knex, tasks: TaskService) {
  function linksOf(task: TaskRow): IdentityLink[] {
    return [
      ...(task.assignee ? [{ userId: task.assignee, groupId: null, type: 'assignee' }] : []),
      ...(task.owner ? [{ userId: task.owner, groupId: null, type: 'owner' }] : []),
      ...task.candidate_users.map((u) => ({ userId: u, groupId: null, type: 'candidate' })),
      ...task.candidate_groups.map((g) => ({ userId: null, groupId: g, type: 'candidate' })),
    ];
  }

  async function assertNamesSomeone(link: IdentityLink): Promise<void> {
    if (link.userId != null) {
      if ([SYSTEM_USER, PUBLIC_USER].includes(link.userId.toLowerCase()) || !(await findUser(db, link.userId))) {
        throw new ValidationError(`用户不存在 / no user ${link.userId}`);
      }
    } else if (!(await findGroup(db, link.groupId!))) {
      throw new ValidationError(`组不存在 / no group ${link.groupId}`);
    }
  }

  async function change(id: string, link: IdentityLink, add: boolean, principal: Principal): Promise<void> {
    if (link.type === 'assignee') {
      await tasks.setAssignee(id, add ? link.userId : null, principal);
      return;
    }
    const task = await tasks.openTask(id, principal);
    if (!principal.isAdmin) throw new ForbiddenError(`只有管理员可以更改任务 ${id} 的候选人和所有人 / only administrators may change the candidates and owner of task ${id}`);
    if (add) await assertNamesSomeone(link);
    const fact = taskFact(task, add ? 'AddIdentityLink' : 'DeleteIdentityLink', { ...link });
    await tasks.commitUpdate(task, principal, fact, async (trx) => {
      // Camunda's addIdentityLink and deleteIdentityLink first ensure the task is active.
      await assertActive(trx, task.process_instance_id, 'task', id);
      const done = link.type === 'owner'
        ? await updateOpenTask(trx, id, task.assignee, { owner: add ? link.userId : null }, principal.userId)
        : await changeTaskCandidate(trx, id, link.userId != null ? 'user' : 'group', (link.userId ?? link.groupId)!, add, principal.userId);
      if (!done) throw new ConflictError(`任务已变化，请刷新 / task ${id} changed concurrently; reload it`);
    });
  }

  return {
    async list(id: string, type: string | undefined, principal: Principal): Promise<IdentityLink[]> {
      return linksOf(await tasks.openTask(id, principal)).filter((l) => type == null || l.type === type);
    },
    add: (id: string, link: IdentityLink, principal: Principal) => change(id, link, true, principal),
    remove: (id: string, link: IdentityLink, principal: Principal) => change(id, link, false, principal),
  };
}

export type TaskIdentityLinks = ReturnType<typeof makeTaskIdentityLinks>;
