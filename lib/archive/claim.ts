/**
 * The dispatch claim: `<source>/<region>/<id>/_claim.json`, written with forbid-overwrite by the one event consumer
 * that dispatches `collect` for an invocation, so that thousands of per-instance events end in one dispatch.
 *
 * Taking over an expired claim needs care: OSS has no conditional delete, so two racers that both saw the same expired
 * claim could each delete and rewrite it. The takeover is therefore itself a forbid-overwrite object named after the
 * expired claim (`_claim.takeover-<hash>.json`): only the racer that creates it deletes the expired claim and writes
 * a new one. Takeover markers are left in place (one per expiry; deleting them would reopen the race).
 */
import { createHash } from 'node:crypto';
import { isAlreadyExists } from '../errors';
import { claimKey, type ArchiveRef } from './layout';
import type { ObjectStore } from './store';

/** What `_claim.json` holds. */
export interface Claim {
  /** The request id of the invocation that took the claim. */
  claimedBy: string;
  /** ISO-8601. */
  claimedAt: string;
  /** ISO-8601: after this, anyone may take the claim over. */
  expiresAt: string;
}

/** A claim as read from the store (with the raw body, which names its takeover marker). */
export interface StoredClaim {
  claim: Claim | undefined;
  /** True when the claim is past `expiresAt`, or unreadable (a torn or foreign object is treated as expired). */
  expired: boolean;
  body: Buffer;
}

/** The answer to {@link takeClaim}. */
export type TakeClaimResult =
  | { taken: true; claim: Claim; tookOver: boolean }
  | { taken: false; holder: Claim | undefined };

/** Default claim lifetime: 15 minutes (env `CLAIM_TTL_SECONDS`). */
export const DEFAULT_CLAIM_TTL_SECONDS = 15 * 60;

/**
 * Reads the claim of an archive (or the claim object at `key`: the same protocol serves other one-holder steps, such as
 * a forced re-collection's switch); `undefined` when there is none.
 */
export async function readClaim(store: ObjectStore, ref: ArchiveRef, nowMs: number, key = claimKey(ref)): Promise<StoredClaim | undefined> {
  const body = await store.get(key);
  if (!body) return undefined;
  const claim = parseClaim(body);
  const expiresMs = claim ? Date.parse(claim.expiresAt) : NaN;
  return { claim, expired: !Number.isFinite(expiresMs) || expiresMs <= nowMs, body };
}

function parseClaim(body: Buffer): Claim | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as Partial<Claim>;
    if (typeof v.claimedBy === 'string' && typeof v.claimedAt === 'string' && typeof v.expiresAt === 'string') {
      return { claimedBy: v.claimedBy, claimedAt: v.claimedAt, expiresAt: v.expiresAt };
    }
  } catch {
    // unreadable: treated as expired by the caller
  }
  return undefined;
}

/** The key of the takeover marker of one (expired) claim body (of the claim object at `key`). */
export function takeoverKey(ref: ArchiveRef, expiredBody: Buffer, key = claimKey(ref)): string {
  const hash = createHash('sha256').update(expiredBody).digest('hex').slice(0, 24);
  return key.replace(/\.json$/, `.takeover-${hash}.json`);
}

/**
 * Takes the claim: a forbid-overwrite put; when a claim exists and has expired, a single-winner takeover (see the
 * module comment) deletes it and retries the put once.
 */
export async function takeClaim(
  store: ObjectStore,
  ref: ArchiveRef,
  options: { claimedBy: string; nowMs: number; ttlSeconds: number; /** @default `_claim.json` of the archive */ key?: string },
): Promise<TakeClaimResult> {
  const key = options.key ?? claimKey(ref);
  const claim: Claim = {
    claimedBy: options.claimedBy,
    claimedAt: new Date(options.nowMs).toISOString(),
    expiresAt: new Date(options.nowMs + options.ttlSeconds * 1000).toISOString(),
  };
  const body = JSON.stringify(claim) + '\n';
  const put = async (): Promise<boolean> => {
    try {
      await store.put(key, body, { forbidOverwrite: true, contentType: 'application/json' });
      return true;
    } catch (err) {
      if (isAlreadyExists(err)) return false;
      throw err;
    }
  };
  if (await put()) return { taken: true, claim, tookOver: false };

  const existing = await readClaim(store, ref, options.nowMs, key);
  if (!existing) {
    // Released (or taken over and deleted) between our put and our read: one more try, as with an expired claim.
    return (await put()) ? { taken: true, claim, tookOver: false } : { taken: false, holder: (await readClaim(store, ref, options.nowMs, key))?.claim };
  }
  if (!existing.expired) return { taken: false, holder: existing.claim };

  try {
    await store.put(takeoverKey(ref, existing.body, key), JSON.stringify({ ...claim, replaces: existing.claim ?? null }) + '\n', {
      forbidOverwrite: true,
      contentType: 'application/json',
    });
  } catch (err) {
    if (isAlreadyExists(err)) return { taken: false, holder: existing.claim };
    throw err;
  }
  await store.delete(key);
  if (await put()) return { taken: true, claim, tookOver: true };
  return { taken: false, holder: (await readClaim(store, ref, options.nowMs, key))?.claim };
}

/** Deletes the claim if it is still ours (so a redelivery or the sweep can retry after a failed dispatch). */
export async function releaseClaim(store: ObjectStore, ref: ArchiveRef, claim: Claim, key = claimKey(ref)): Promise<boolean> {
  const current = await store.get(key);
  if (!current) return false;
  const parsed = parseClaim(current);
  if (parsed?.claimedBy !== claim.claimedBy || parsed.claimedAt !== claim.claimedAt) return false;
  await store.delete(key);
  return true;
}
