/**
 * The log redactor and the masker judge a name by one rule (lib/secret-key.ts): a field the masker would mask in a
 * summary is `[redacted]` in a log line, and a name the masker leaves alone is logged.
 */
import { describe, expect, it } from 'vitest';
import { isSecretKey } from '../../lib/causes/secrets';
import { createLogger, redact } from '../../lib/log';

describe('redact: one secret-key rule with the masker', () => {
  const names = [
    'password', 'DB_PASSWORD', 'accessKeySecret', 'securityToken', 'client-secret', 'x-api-key', 'authorization', 'Cookie', 'MYSQL_PWD',
    'token_type', 'password_file', 'access_key_id', 'SignatureDoesNotMatch', 'tokenizer', 'publicKey', 'requestId', 'message',
  ];

  it.each(names)('%s: redacted exactly when the masker calls it secret', (name) => {
    // Prepare: a field of that name, nested and at the top; Act
    const out = redact({ [name]: 'v4lue', nested: { [name]: 'v4lue' } }) as Record<string, unknown>;
    // Assess
    const expected = isSecretKey(name) ? '[redacted]' : 'v4lue';
    expect(out[name]).toBe(expected);
    expect((out.nested as Record<string, unknown>)[name]).toBe(expected);
  });

  it('the rule says what the masker says on the names that used to differ', () => {
    // The redactor matched `token` inside `tokenizer` and `accesskey` inside `accessKeyId`; the masker did not.
    expect([isSecretKey('tokenizer'), isSecretKey('accessKeyId'), isSecretKey('authorization'), isSecretKey('securityToken')]).toEqual([false, false, true, true]);
  });

  it('a logged error keeps its message and drops secret-named properties', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l), now: () => new Date(0) });
    const err = Object.assign(new Error('denied'), { accessKeySecret: 's3cr3t', code: 'Forbidden' });
    logger.error('call failed', { err, password: 'hunter2', user: 'ops' });
    const line = JSON.parse(lines[0] ?? '{}') as { err: Record<string, unknown>; password: string; user: string };
    expect(line.err).toMatchObject({ message: 'denied', code: 'Forbidden', accessKeySecret: '[redacted]' });
    expect(line.password).toBe('[redacted]');
    expect(line.user).toBe('ops');
  });
});
