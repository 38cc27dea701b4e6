import { findUserWithGroups } from '../store/identity.ts';
import type { Db } from '../store/db.ts';
import { ValidationError } from '../errors.ts';
import { PUBLIC_USER, SYSTEM_USER, roleGroups, type Principal } from '../types.ts';

/*
 * Who may take part in the approval operations of issue 16 (README, "谁可以做什么 /
 * Who may do what"; docs/instance-operations.md): the office and
 * administrators act on any instance; the initiator on their own.
 */

export const OFFICE_GROUP = 'office';

const ROLE_IDS: ReadonlySet<string> = new Set(roleGroups.map((g) => g.id));

/** Administrators and members of the office (领导小组办公室). */
export function isOfficeOrAdmin(principal: Principal): boolean {
  return principal.isAdmin || principal.groups.includes(OFFICE_GROUP);
}

/** The organisation's roles among `groups`. */
export function rolesOf(groups: readonly string[]): string[] {
  return groups.filter((g) => ROLE_IDS.has(g));
}

/**
 * An existing user to hand work to: 400 naming them when the name is the
 * server's own, when nobody has it, or when it is `self` (the caller, for 转办).
 */
export async function existingUser(db: Db, userId: unknown, what: string, self?: string): Promise<{ id: string; groups: string[] }> {
  if (typeof userId !== 'string' || !userId) throw new ValidationError('请求体需要 userId / body must contain userId');
  const refuse = (zh: string, en: string): never => {
    throw new ValidationError(`不能${what.split(' / ')[0]}给 ${userId}：${zh} / cannot ${what.split(' / ')[1]} to user ${userId}: ${en}`);
  };
  if ([SYSTEM_USER, PUBLIC_USER].includes(userId.toLowerCase())) refuse('该名称为系统保留', 'the name is reserved for the server');
  if (userId === self) refuse('不能交给自己', 'that is yourself');
  const user = await findUserWithGroups(db, userId);
  return user ? { id: user.id, groups: user.groups } : refuse('用户不存在', 'no such user');
}

/** An optional human comment: text of at most 4000 characters, or nothing. */
export function optionalComment(comment: unknown): string | null {
  if (comment == null || comment === '') return null;
  if (typeof comment !== 'string' || comment.length > 4000) throw new ValidationError('comment 必须是不超过 4000 字符的文本 / comment must be text of at most 4000 characters');
  return comment.trim() || null;
}
