import { describe, expect, it } from 'vitest';
import { displayText, isSecretKey, maskSecrets, REDACTED, shannonEntropy, showBidiControls } from '../../lib/causes/secrets';
import { VENDOR_RULES } from '../../lib/causes/vendor-rules.generated';
import { MULTI_LINE_SECRETS, ORDINARY_LINES, SECRET_LINES } from '../fixtures/secret-corpus';

describe('maskSecrets: the secret corpus', () => {
  it('holds at least 40 secret-bearing and 40 ordinary lines', () => {
    expect(SECRET_LINES.length).toBeGreaterThanOrEqual(40);
    expect(ORDINARY_LINES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(SECRET_LINES.map((s) => [s.line.slice(0, 60), s] as const))('masks %s', (_name, s) => {
    // Prepare: nothing; Act
    const masked = maskSecrets(s.line);
    // Assess: no secret value is left, the mask is there, and the form stays readable where it matters
    for (const secret of s.secrets) expect(masked).not.toContain(secret);
    expect(masked).toContain(REDACTED);
    if (s.masked !== undefined) expect(masked).toBe(s.masked);
  });

  it.each(ORDINARY_LINES.map((l) => [l]))('keeps %s', (line) => {
    expect(maskSecrets(line)).toBe(line);
  });

  it('is idempotent', () => {
    for (const s of SECRET_LINES) {
      const once = maskSecrets(s.line);
      expect(maskSecrets(once)).toBe(once);
    }
  });

  it('masks every line of a whole output at once', () => {
    const output = [...ORDINARY_LINES.slice(0, 10), ...SECRET_LINES.map((s) => s.line)].join('\n');
    const masked = maskSecrets(output);
    for (const s of SECRET_LINES) for (const secret of s.secrets) expect(masked).not.toContain(secret);
    for (const line of ORDINARY_LINES.slice(0, 10)) expect(masked).toContain(line);
  });
});

describe('maskSecrets: forms', () => {
  it.each([
    ['a private key without its END line', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', '-----BEGIN OPENSSH PRIVATE KEY-----<redacted>'],
    ['two key blocks', '-----BEGIN EC PRIVATE KEY-----\nAAA\n-----END EC PRIVATE KEY----- and -----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----', '-----BEGIN EC PRIVATE KEY-----<redacted>-----END EC PRIVATE KEY----- and -----BEGIN PRIVATE KEY-----<redacted>-----END PRIVATE KEY-----'],
    ['a quoted -p value', "mysql -uroot -p'x y z' db", "mysql -uroot -p'<redacted>' db"],
    ['7z -p', '7z x backup.7z -pZipPw1', '7z x backup.7z -p<redacted>'],
    ['unzip -P', 'unzip -P ZipPw2 a.zip', 'unzip -P <redacted> a.zip'],
    ['redis AUTH', 'redis-cli -h cache AUTH default RdsPw3', 'redis-cli -h cache AUTH default <redacted>'],
    ['an XML element', '<password>XmlPw4</password>', `<password>${REDACTED}</password>`],
    ['a spaced cloud secret', 'AccessKeySecret Ab12Cd34Ef56', 'AccessKeySecret <redacted>'],
    ['a cookie header', 'Cookie: session=abc123def', 'Cookie: <redacted>'],
    ['a Digest authorization', 'Authorization: Digest username="a", response="6629fae49393a05397450978507c4ef1"', 'Authorization: Digest <redacted>'],
    ['a command per segment', 'sshpass -p SshPw5 ssh h uptime; ssh -p 22 h', 'sshpass -p <redacted> ssh h uptime; ssh -p 22 h'],
    ['full-width colon', '口令：KlPw6', '口令：<redacted>'],
  ])('masks %s', (_name, input, expected) => {
    expect(maskSecrets(input)).toBe(expected);
  });

  it.each([
    ['mysql -p with a space (the prompt, then a database)', 'mysql -u root -p appdb'],
    ['a port flag', 'ssh -p 2222 root@host'],
    ['a variable as a password', 'mysql -uroot -p$MYSQL_PWD'],
    ['a password prompt', 'Enter password:'],
    ['openssl env:', 'openssl enc -pass env:ENC_PASS -in a'],
    ['password-stdin', 'docker login --password-stdin registry.example.com'],
    ['an access key id', 'ACCESS_KEY_ID=project-prod'],
    ['Basic of something that is not user:password', 'Basic YWJjZGVmZ2hpams='],
  ])('keeps %s', (_name, input) => {
    expect(maskSecrets(input)).toBe(input);
  });
});

describe('maskSecrets: entropy', () => {
  // A fixed pseudo-random sequence, so the figures are the same on every run.
  let x = 7;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const random = (n: number) => Array.from({ length: n }, () => B64[(next() >>> 8) % 64]).join('');

  it.each([24, 40, 64])('masks nearly every random base64 string of %i characters that no other rule names', (n) => {
    const strings = Array.from({ length: 200 }, () => random(n));
    const masked = strings.filter((t) => !maskSecrets(`got ${t} back`).includes(t)).length;
    expect(masked).toBeGreaterThanOrEqual(n === 24 ? 180 : 194);
  });

  it.each([
    'Contoso-Platform-Update-Win7-SRV08R2-Package-TopLevel',
    'HarddiskVolumeShadowCopy2/Windows/System32',
    'org.springframework.beans.factory.BeanCreationException',
    'kernel-5.10.134-17.al8.x86_64',
    'ApplicationEventMulticaster4Test',
  ])('keeps words that mix cases and digits: %s', (word) => {
    expect(maskSecrets(`loading ${word} failed`)).toBe(`loading ${word} failed`);
  });
});

describe('isSecretKey', () => {
  it.each(['password', 'PGPASSWORD', 'MYSQL_PWD', 'DB_PASS', 'accessKeySecret', 'client-secret', 'X-Acs-Security-Token', 'api_key', 'aws_secret_access_key', 'privateKey'])(
    '%s is secret',
    (key) => expect(isSecretKey(key)).toBe(true),
  );
  it.each(['PWD', 'pass', 'password_file', 'token_type', 'access_key_id', 'SignatureMethod', 'passenger', 'keyboard', 'monkey', 'SignatureDoesNotMatch', 'InvalidAccessKeySecret', 'tokenizer', 'passwordless', 'secretsmanager', 'master-keying', 'public_key'])('%s is not', (key) =>
    expect(isSecretKey(key)).toBe(false),
  );
});

describe('shannonEntropy', () => {
  it('is 0 for one repeated character and log2(n) for n distinct ones', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });
});

describe('maskSecrets: hostile input', () => {
  // A catastrophic backtracking pattern takes minutes on these; linear rules finish within the test's timeout.
  const size = 24 * 1024;
  const fill = (unit: string): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  it.each([
    'a', 'aA1', 'password=', 'password:', 'eyJ', 'eyJa.', '-p', 'mysql -u', 'a://', 'https://a:b', 'Authorization: ', 'Bearer ', 'QUFB',
    'LTAI', 'a1', '-----BEGIN PRIVATE KEY-----', '-----BEGIN ', '--password ', '--a-b-c-d', 'a_b.', 'aB', '密码', '密码为', 'access_key_secret ',
    'aB_', 'aZ09+/', '<password>', 'sk-', 'sshpass docker login redis-cli curl -u a:', 'password=a\n', 'mysql -pa ',
    'curl -u a:b \\\n', 'machine h login u\n', 'https://h/hooks/', 'Error: ', 'x:=', 'p="\n', 'password: |\n ', 'kind: secret\ndata:\n', '-----BEGIN CERTIFICATE-----', 'ssh-rsa AAAA',
  ])('%j repeated to 24 KB', (unit) => {
    const text = fill(unit);
    const masked = maskSecrets(text);
    expect(typeof masked).toBe('string');
    expect(maskSecrets(masked)).toBe(masked);
  }, 10_000);

  // Every keyword of the upstream rules wakes its rules; repeated, each rule tries a match at every occurrence.
  const keywords = [...new Set(VENDOR_RULES.rules.flatMap((r) => r.keywords))];
  it(`each of the ${keywords.length} upstream keywords, glued to a letter or followed by "= ", repeated to 24 KB`, () => {
    for (const k of keywords) {
      for (const unit of [`${k}a`, `${k}= `]) expect(typeof maskSecrets(fill(unit))).toBe('string');
    }
  }, 120_000);
});

describe('maskSecrets: whole outputs (issue 21)', () => {
  it.each(MULTI_LINE_SECRETS.map((s) => [s.line.split('\n')[0] ?? '', s] as const))('masks %s… over its lines', (_name, s) => {
    // Prepare: an output with the construct among other lines; Act
    const output = `step 1 ok\n${s.line}\nexit status 1\n`;
    const masked = maskSecrets(output);
    // Assess: every secret line is gone, the lines around it stay
    for (const secret of s.secrets) expect(masked).not.toContain(secret);
    expect(masked.startsWith('step 1 ok\n')).toBe(true);
    expect(masked.endsWith('\nexit status 1\n')).toBe(true);
  });

  it('a YAML block ends where the indentation comes back', () => {
    expect(maskSecrets('  password: |\n    one\n    two\n  user: admin\n')).toBe('  password: |\n    <redacted>\n    <redacted>\n  user: admin\n');
  });

  it('a keyword-scoped rule needs its keyword near the value: a far keyword leaves commit ids alone', () => {
    // Prepare: gitleaks' Sourcegraph rule takes any 40-digit hex string when "sourcegraph" is in the text
    const commit = '3e1b2c4d5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c';
    const far = `sourcegraph is configured\n${'build step ok\n'.repeat(40)}commit ${commit}`;
    const near = `sourcegraph token ${commit}`;
    // Act, Assess
    expect(maskSecrets(far)).toContain(commit);
    expect(maskSecrets(near)).not.toContain(commit);
  });
});

describe('maskSecrets: placeholders and allow-lists', () => {
  it.each([
    ['a URL password that is a variable', 'mysql://user:${PASSWORD}@db:3306/app'],
    ['a URL password that names itself', 'https://username:password@example.com/api'],
    ['a URL whose user is its password (a default)', 'postgres://postgres:postgres@localhost:5432/app'],
    ['a template', 'Authorization: Bearer <your API token>'],
    ['an upper-case name of a secret', 'access_token=ACCESS_TOKEN'],
    ['a documented example key', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE'],
    ['a value of x', 'api_key = "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"'],
    ['a code reference', 'BlindKeySignatures = Ed25519.BlindKeySignatures'],
    ['a package and its version', 'io.jsonwebtoken: jjwt-jackson-0.11.2'],
    ['a public key', 'public_key = 9f86d081884c7d659a2feaa0c55ad015'],
    ['an SSH public key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@bastion'],
    [
      'a certificate',
      '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTES\nMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYDVQQD\n-----END CERTIFICATE-----',
    ],
  ])('keeps %s', (_name, input) => {
    expect(maskSecrets(input)).toBe(input);
  });

  it('a key gitleaks allow-lists as public is not taken by the entropy rule either', () => {
    // Prepare: one of the Google API keys gitleaks' gcp-api-key rule lists as known public (its allow-list)
    const known = VENDOR_RULES.rules.find((r) => r.id === 'gcp-api-key')?.allow.flatMap((a) => a.regexes).find((p) => /^AIza[\w-]{35}$/.test(p));
    expect(known).toBeDefined();
    // Act, Assess
    expect(maskSecrets(`maps key ${known ?? ''} loaded`)).toBe(`maps key ${known ?? ''} loaded`);
  });
});

describe('displayText: bidirectional controls', () => {
  it.each([
    ['\u202egnp.exe', '\\u202egnp.exe'],
    ['a\u2066b\u2069c', 'a\\u2066b\\u2069c'],
    ['\u202a\u202b\u202c\u202d', '\\u202a\\u202b\\u202c\\u202d'],
    ['plain', 'plain'],
  ])('%j is shown as %j', (input, expected) => {
    expect(displayText(input)).toBe(expected);
    expect(showBidiControls(input)).toBe(expected);
  });
});
