// The types of scripts/bundle.mjs, for the TypeScript that uses it (bench/collect.ts).
import type { BuildOptions, Metafile } from 'esbuild';

export interface LazyRoom {
  /** The file beside a bundle. */
  file: string;
  /** The room's folder. */
  dir: string;
}
export interface BuiltRoom extends LazyRoom {
  /** Where it was built. */
  built: string;
  /** Per module (absolute .ts path), its export names. */
  exports: Map<string, string[]>;
}
export function chunksOf(root: string): { file: string; entry: string; importer: string; specifier: string }[];
export function lazyRoomsOf(root: string): LazyRoom[];
export function commonOptions(root: string): BuildOptions;
export function buildRooms(root: string, dir: string, options?: BuildOptions): Promise<BuiltRoom[]>;
export function bundleFunction(root: string, name: string, outdir: string, rooms: BuiltRoom[], options?: BuildOptions): Promise<{ files: string[]; metafile: Metafile }>;
