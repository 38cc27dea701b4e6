import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { ConflictError } from '../errors.ts';
import type { DueSource } from '../scheduler/timers.ts';
import { dumpEmbedded } from '../store/backup.ts';
import type { TraceHead } from '../store/trace.ts';
import { SYSTEM, type Principal } from '../types.ts';
import { assertAdmin } from './instances.ts';
import type { Actor, TraceService } from './trace.ts';

/** One backup in the folder: the data folder's archive and the trace heads it holds. */
export interface Backup {
  /** `bpmn-20261208T020000Z`: the archive is `<id>.tar.gz`, its heads `<id>.heads.json`. */
  id: string;
  time: Date;
  file: string;
  size: number;
  heads: TraceHead[];
}

export interface BackupSettings {
  /** The backup folder; undefined: none configured (a PostgreSQL server, or a test's database). */
  dir: string | undefined;
  /** Whether the database is the embedded PGlite, the only one this server dumps itself. */
  embedded: boolean;
  /** Hours between scheduled backups; 0: none scheduled. */
  intervalHours: number;
  /** Backups older than this many days are deleted after each scheduled one. */
  keepDays: number;
}

const ID = /^bpmn-(\d{8}T\d{6}(?:\d{3})?Z)$/;
const HOUR = 3_600_000;
/** After a failed scheduled backup (a full disk), wait this long before the next attempt. */
const RETRY_MS = HOUR;
/** The first scheduled backup of a folder with none waits this long after start-up. */
const SETTLE_MS = 10 * 60_000;

/** A backup's name from its time: sorts by time, and says it. */
export const backupId = (time: Date) => `bpmn-${time.toISOString().replace(/[-:]/g, '').replace('.', '')}`;
const timeOf = (stamp: string) => new Date(stamp.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(\d{3})?Z$/, (_, y, mo, d, h, mi, s, ms) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms ?? '000'}Z`));

/**
 * Backups of the embedded database, taken while the server runs (POST
 * /engine-rest/backup, or on a schedule) into BACKUP_DIR and kept
 * BACKUP_KEEP_DAYS. The folder itself is the record of what exists: a
 * backup is an archive with its heads file, both written under temporary
 * names and renamed, heads last, so a half-written one is never listed.
 * PostgreSQL is backed up with pg_dump (docs/operations.md), not here.
 */
export function makeBackupService(db: Knex, clock: Clock, trace: TraceService, settings: BackupSettings, log?: Logger) {
  let failedAt: number | undefined;
  let firstLook: number | undefined;

  function usable(): string {
    if (!settings.embedded) throw new ConflictError('PostgreSQL 数据库请用 pg_dump 备份（见 docs/operations.md）/ back up PostgreSQL with pg_dump (docs/operations.md)', undefined, 'BackupException');
    if (!settings.dir) throw new ConflictError('未设置备份目录 BACKUP_DIR / no backup folder: set BACKUP_DIR', undefined, 'BackupException');
    return settings.dir;
  }

  /**
   * The backups in the folder, newest first. A file that cannot be read (a heads file
   * cut short or edited by hand) is left out with a warning: one bad file must not stop
   * the listing, or the schedule, which reads it every round.
   */
  function list(): Backup[] {
    const dir = settings.dir;
    if (!dir || !fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).filter((f) => f.endsWith('.heads.json')).flatMap((f) => {
      const id = f.slice(0, -'.heads.json'.length);
      const m = ID.exec(id);
      const file = path.join(dir, `${id}.tar.gz`);
      if (!m || !fs.existsSync(file)) return [];
      try {
        const heads = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).heads as TraceHead[];
        if (!Array.isArray(heads)) throw new Error('no heads array');
        return [{ id, time: timeOf(m[1]), file, size: fs.statSync(file).size, heads }];
      } catch (err) {
        log?.warn({ err, file: f }, 'unreadable backup heads file left out of the list');
        return [];
      }
    }).sort((a, b) => b.time.getTime() - a.time.getTime());
  }

  async function take(actor: Actor): Promise<Backup> {
    const dir = usable();
    const time = await clock.now();
    const id = backupId(time);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { archive, heads } = await dumpEmbedded(db);
    const file = path.join(dir, `${id}.tar.gz`);
    await writeAtomically(file, archive.stream());
    await writeHeads(dir, id, time, heads);
    const backup: Backup = { id, time, file, size: fs.statSync(file).size, heads };
    await trace.recordAlone(actor, { operation: 'Create', entityType: 'Backup', entityId: id, details: { size: backup.size, chains: heads.length } });
    return backup;
  }

  /** Deletes backups older than keepDays, never the newest. */
  async function prune(): Promise<string[]> {
    const cutoff = (await clock.now()).getTime() - settings.keepDays * 24 * HOUR;
    const [, ...older] = list();
    const gone = older.filter((b) => b.time.getTime() < cutoff);
    for (const b of gone) {
      fs.rmSync(path.join(path.dirname(b.file), `${b.id}.heads.json`), { force: true });
      fs.rmSync(b.file, { force: true });
    }
    if (gone.length) await trace.recordAlone(SYSTEM, { operation: 'Delete', entityType: 'Backup', details: { ids: gone.map((b) => b.id), keepDays: settings.keepDays } });
    return gone.map((b) => b.id);
  }

  /**
   * When the next scheduled backup is due; undefined when none are scheduled.
   * With none in the folder yet, SETTLE_MS after this server first looked:
   * a new server is left to settle, and one restarting in a loop does not dump each time.
   */
  async function nextDue(): Promise<number | undefined> {
    if (!settings.embedded || !settings.dir || settings.intervalHours <= 0) return undefined;
    firstLook ??= (await clock.now()).getTime();
    const newest = list()[0]?.time.getTime();
    const due = newest === undefined ? firstLook + SETTLE_MS : newest + settings.intervalHours * HOUR;
    return Math.max(due, (failedAt ?? -Infinity) + RETRY_MS);
  }

  /** The schedule as a scheduler source: due when the newest backup is older than the interval. */
  const source: DueSource<{ id: string }> = {
    // A folder that cannot be read is logged and the round goes on: the other sources (timers) must not wait for it.
    async claimDue() {
      try {
        const due = await nextDue();
        return due !== undefined && due <= (await clock.now()).getTime() ? [{ id: 'scheduled-backup' }] : [];
      } catch (err) {
        log?.error({ err }, 'backup folder unreadable; no scheduled backup');
        return [];
      }
    },
    async fire() {
      const backup = await take(SYSTEM);
      failedAt = undefined;
      log?.info({ id: backup.id, size: backup.size, removed: await prune() }, 'scheduled backup written');
    },
    async fail(_row, error) {
      failedAt = (await clock.now()).getTime();
      log?.error({ err: error }, 'scheduled backup failed; retrying in an hour');
    },
    async msUntilNext() {
      const due = await nextDue().catch(() => undefined);
      return due === undefined ? undefined : Math.max(0, due - (await clock.now()).getTime());
    },
  };

  return {
    source,
    /** The backups in the folder, newest first (the read is traced by the HTTP layer, as every read). */
    list(principal: Principal): Backup[] {
      assertAdmin(principal);
      return list();
    },
    async take(principal: Principal): Promise<Backup> {
      assertAdmin(principal);
      return take(principal);
    },
    prune,
  };
}

/** Writes `<id>.heads.json`, the trace heads a backup holds, last of a backup's files. */
export async function writeHeads(dir: string, id: string, time: Date, heads: TraceHead[]): Promise<void> {
  await writeAtomically(path.join(dir, `${id}.heads.json`), Buffer.from(`${JSON.stringify({ id, time: time.toISOString(), heads }, null, 2)}\n`));
}

/** Reads the heads recorded beside a backup file (`…/<id>.tar.gz` or `…/<id>.dump`). */
export function readHeads(file: string): TraceHead[] {
  const headsFile = file.replace(/\.(tar\.gz|dump)$/, '.heads.json');
  if (headsFile === file || !fs.existsSync(headsFile)) throw new Error(`找不到链头文件 / no heads file beside the backup: ${headsFile}`);
  return JSON.parse(fs.readFileSync(headsFile, 'utf8')).heads as TraceHead[];
}

/** Written under a temporary name and renamed: a reader never sees half a file. */
export async function writeAtomically(file: string, bytes: Buffer | ReadableStream<Uint8Array>): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.part`;
  // A stream is written as it comes, not copied into one more buffer the size of the database.
  await fs.promises.writeFile(temp, bytes instanceof Buffer ? bytes : Readable.fromWeb(bytes as never), { mode: 0o600 });
  fs.renameSync(temp, file);
}

export type BackupService = ReturnType<typeof makeBackupService>;
