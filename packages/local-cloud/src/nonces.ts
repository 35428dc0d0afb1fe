/**
 * Replay protection shared by every endpoint of the local cloud that checks a signature nonce (POP RPC V1
 * `SignatureNonce`, ACS3 `x-acs-signature-nonce` on the RPC and FC endpoints).
 *
 * Remembers the nonces seen per AccessKey until their timestamp leaves the accepted window (after that the timestamp
 * check rejects a replay anyway). Bounded: at most `capacity` nonces per key; beyond that the oldest are forgotten.
 */
export class NonceStore {
  private readonly byKey = new Map<string, Map<string, number>>();
  constructor(private readonly capacity = 100_000) {}

  /** Records the nonce; false when it was already used within its window. */
  use(accessKeyId: string, nonce: string, expiresAt: number, now: number): boolean {
    let seen = this.byKey.get(accessKeyId);
    if (!seen) {
      seen = new Map();
      this.byKey.set(accessKeyId, seen);
    }
    const exp = seen.get(nonce);
    if (exp !== undefined && exp > now) return false;
    // Entries are inserted in (roughly) expiry order: drop expired ones from the front.
    for (const [n, e] of seen) {
      if (e > now || seen.size === 0) break;
      seen.delete(n);
    }
    seen.delete(nonce);
    seen.set(nonce, expiresAt);
    while (seen.size > this.capacity) {
      const oldest = seen.keys().next();
      if (oldest.done) break;
      seen.delete(oldest.value);
    }
    return true;
  }

  size(accessKeyId: string): number {
    return this.byKey.get(accessKeyId)?.size ?? 0;
  }
}
