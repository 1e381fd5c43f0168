import { Command, type Redis } from 'ioredis';
import { ImgfleetError } from '../../errors.js';
import { readFileLimited } from '../../io/read-file.js';

/** A worker's hold on a job: BullMQ's lock key of the job, and the token the worker took it with. */
export interface JobHold {
  lockKey: string;
  token: string;
}

/**
 * Moves the blobs a worker wrote under their staging names to their own, only while the job's
 * lock holds the worker's token. The bytes never pass through Lua (a script given 40 KB of
 * arguments cost Redis about 100 µs), and a job's results move in one call at its end.
 *
 * KEYS[1] the job's lock, then pairs: KEYS[2i] a staged blob, KEYS[2i+1] its name; ARGV[1] the
 * worker's token. Returns 1 when every blob is in place (also when a resent call finds them
 * moved already), 0 when the lock is lost (the staged blobs are deleted), -1 when a staged blob
 * is gone.
 */
const MOVE_WHILE_HELD = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  for i = 2, #KEYS, 2 do redis.call('DEL', KEYS[i]) end
  return 0
end
for i = 2, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + 1])
  elseif redis.call('EXISTS', KEYS[i + 1]) == 0 then
    return -1
  end
end
return 1`;

/** KEYS[1] the job's lock, ARGV[1] the worker's token: the lock's time to live in ms while it holds the token, -3 when it does not. */
const HELD_FOR = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -3 end
return redis.call('PTTL', KEYS[1])`;

interface WithScripts {
  imgfleetMoveWhileHeld(keyCount: number, ...keysAndToken: string[]): Promise<number>;
  imgfleetHeldFor(keyCount: number, lockKey: string, token: string): Promise<number>;
}

/**
 * Image bytes as binary Redis values under their own keys, never inside job data. Every blob
 * has a time to live, so one left behind by a crashed submitter disappears by itself.
 */
export class BlobStore {
  private holding = false;

  private readonly scripts: Redis & WithScripts;

  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly ttlMs = 3_600_000) {
    // Defined before any command is sent: on a connection that pipelines the commands of a turn,
    // a pipeline made before a script's definition lacks it, and a first call in that turn threw
    // inside ioredis' pipelining (the whole worker ended on an uncaught TypeError).
    const scripted = redis as Redis & Partial<WithScripts>;
    if (!scripted.imgfleetMoveWhileHeld) redis.defineCommand('imgfleetMoveWhileHeld', { lua: MOVE_WHILE_HELD });
    if (!scripted.imgfleetHeldFor) redis.defineCommand('imgfleetHeldFor', { lua: HELD_FOR });
    this.scripts = redis as Redis & WithScripts;
  }

  key(jobId: string, role: string): string {
    return `${this.keyPrefix}${jobId}:${role}`;
  }

  /** Where a worker writes a result blob before it is moved to `key` (see moveWhileHeld). */
  stagedKey(key: string): string {
    return `${key}:staged`;
  }

  /** Every blob key starts with this: a job naming any other key is refused. */
  get keyPrefix(): string {
    return `${this.prefix}:blob:`;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.holdWritesForTurn();
    await this.redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'PX', this.ttlMs);
  }

  /**
   * Uploads a file as a blob without copying its bytes: they are read straight into the command
   * that carries them, between its header and its end. (ioredis copies a Buffer argument into a
   * fresh buffer per command; that copy, and the garbage it made, cost the submitter about
   * 0.03 ms an image.) The file is read now, so a missing or unreadable one throws here; the
   * upload ends with `sent`.
   */
  putFile(key: string, path: string, maxBytes: number): { bytes: number; sent: Promise<void> } {
    const ttl = String(this.ttlMs);
    const head = (size: number) => `*5\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${size}\r\n`;
    const tail = `\r\n$2\r\nPX\r\n$${ttl.length}\r\n${ttl}\r\n`;
    // The size is known only once the file is open: room for the longest header it could have.
    const data = readFileLimited(path, maxBytes, { before: Buffer.byteLength(head(Number.MAX_SAFE_INTEGER)), after: tail.length });
    const header = head(data.length);
    const headerBytes = Buffer.byteLength(header);
    const command = Buffer.from(data.buffer, data.byteOffset - headerBytes, headerBytes + data.length + tail.length);
    command.write(header, 0);
    command.write(tail, headerBytes + data.length);
    this.holdWritesForTurn();
    const sent = this.redis.sendCommand(new WrittenCommand('set', [key, `(${data.length} bytes)`, 'PX', ttl], command)) as Promise<unknown>;
    return { bytes: data.length, sent: sent.then(() => {}) };
  }

  /** Writes a blob under its staging name, where nobody reads it until moveWhileHeld puts it in place. */
  putStaged(key: string, bytes: Uint8Array): Promise<void> {
    return this.put(this.stagedKey(key), bytes);
  }

  /**
   * Puts staged blobs in place, in one step, only while `hold` (a job's lock) still holds its
   * token: a worker that lost its job (its lock ran out and the job went to another worker)
   * leaves nothing under their names. False when the hold is lost.
   */
  async moveWhileHeld(keys: string[], hold: JobHold): Promise<boolean> {
    const pairs = keys.flatMap((key) => [this.stagedKey(key), key]);
    const moved = await this.scripts.imgfleetMoveWhileHeld(1 + pairs.length, hold.lockKey, ...pairs, hold.token);
    if (moved === -1) throw new ImgfleetError('INTERNAL', 'a result was lost from Redis before it was in place');
    return moved === 1;
  }

  /**
   * How much longer `hold` is sure to hold its job, in ms, counted from before the question was
   * sent: 0 when it no longer does. A lock is taken over only once it has run out, so a worker
   * that heard "held for another t ms" needs not ask again within that time.
   */
  async heldFor(hold: JobHold): Promise<number> {
    const ms = await this.scripts.imgfleetHeldFor(1, hold.lockKey, hold.token);
    // -1: a lock without an expiry (never BullMQ's): held, with no time to count on.
    return ms === -1 ? 1 : Math.max(0, ms);
  }

  /**
   * Blobs put in one turn of the event loop leave in one write: a settled job starts its
   * successors' uploads together, and one system call (and one wake-up of Redis) for them costs
   * less than one each. The socket gathers the commands' buffers without copying them.
   */
  private holdWritesForTurn(): void {
    const socket = this.redis.stream;
    if (this.holding || !socket?.writable) return;
    this.holding = true;
    socket.cork();
    process.nextTick(() => {
      this.holding = false;
      socket.uncork();
    });
  }

  get(key: string): Promise<Buffer | null> {
    return this.redis.getBuffer(key);
  }

  /** Several blobs in one command (null for each that is gone). */
  getMany(keys: string[]): Promise<(Buffer | null)[]> {
    return this.redis.mgetBuffer(...keys);
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys);
  }
}

/** A command whose bytes its maker wrote (see BlobStore.putFile); its arguments only name it in debug output. */
class WrittenCommand extends Command {
  constructor(name: string, args: string[], private readonly written: Buffer) {
    super(name, args, { replyEncoding: 'utf8' });
  }

  override toWritable(): Buffer {
    return this.written;
  }
}
