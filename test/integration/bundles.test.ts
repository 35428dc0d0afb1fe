/**
 * What the cold start depends on: the FC 3.0 SDK is not in any function's main bundle but in `fc-sdk.js` beside the
 * bundles that fan out, which require it only when they invoke; iconv-lite is replaced by the TextDecoder shim.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBundles } from '../../emulator/host/bundles';

const root = resolve(__dirname, '../..');
const FANNING_OUT = ['collect', 'on-cloud-assistant-event', 'sweep'];

beforeAll(async () => {
  await ensureBundles({ root });
}, 120_000);

describe('the bundles', () => {
  it.each(FANNING_OUT)('%s: the FC SDK sits in fc-sdk.js, loaded lazily, not in index.js', async (name) => {
    // Prepare
    const main = readFileSync(join(root, 'dist', name, 'index.js'), 'utf8');
    const sdk = join(root, 'dist', name, 'fc-sdk.js');
    // Assess: the SDK's request classes are in the chunk only; the bundle requires the chunk by its relative path
    expect(main).not.toContain('x-fc-async-task-id');
    expect(main).toMatch(/\b(?:require|import)\("\.\/fc-sdk\.js"\)/);
    expect(readFileSync(sdk, 'utf8')).toContain('x-fc-async-task-id');
    const chunk = (await import(sdk)) as Record<string, unknown>;
    expect(typeof chunk.FcClient).toBe('function');
    expect(typeof chunk.InvokeFunctionRequest).toBe('function');
  });

  it('summarize does not fan out, so it has no SDK chunk', () => {
    expect(existsSync(join(root, 'dist', 'summarize', 'fc-sdk.js'))).toBe(false);
  });

  it.each(['collect', 'summarize', 'sweep', 'on-cloud-assistant-event'])('%s: no iconv-lite code tables', (name) => {
    const main = readFileSync(join(root, 'dist', name, 'index.js'), 'utf8');
    expect(main).not.toContain('Encoding not recognized'); // iconv-lite's own error message
    expect(main).toContain('TextDecoder');
  });
});
