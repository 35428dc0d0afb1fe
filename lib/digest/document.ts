/**
 * The digest document, `digest.json`: what the digest computed (index.ts) and what its renderers (render.ts) read.
 * Types only besides the format's name, so the renderers depend on the document, never on the code that makes it.
 */
import type { Classification } from './classify';

export const DIGEST_FORMAT = 'execution-archive-digest/1';

/** What changed since the previous digest (the first thing the page shows). */
export interface DigestChanges {
  /** The date of the digest compared with, or null for the first one. */
  since: string | null;
  newCauses: string[];
  regressedCauses: string[];
  goneCauses: string[];
  newlyBroken: { command: string; resourceId: string }[];
  recovered: { command: string; resourceId: string }[];
  /** Commands whose failure rate moved by at least 5 points since the previous window. */
  commands: { command: string; rate: number | null; previousRate: number | null; change: number }[];
}

/** `digest.json`. */
export interface Digest extends Classification {
  format: typeof DIGEST_FORMAT;
  date: string;
  generatedAt: string;
  window: { from: string; to: string; days: number };
  historyFrom: string;
  headline: string;
  changes: DigestChanges;
  links: { json: string; markdown: string; html: string };
}
