/** What an API handler gets, and what it returns. */
import type { Datasets } from '../datasets';
import type { Params } from './params';
import type { CountCache, TokenCodec } from './pagination';

export interface HandlerContext {
  action: string;
  params: Params;
  data: Datasets;
  tokens: TokenCodec;
  counts: CountCache;
  /** Emulator clock at the time of the request, ms. */
  now: number;
}

/**
 * Returns the response body without `RequestId` (the server puts a fresh one first); an answer built in slices
 * (json-text.ts) returns it as a promise, with the lists it serialized ahead as `JsonText`.
 */
export type Handler = (ctx: HandlerContext) => Record<string, unknown> | Promise<Record<string, unknown>>;
