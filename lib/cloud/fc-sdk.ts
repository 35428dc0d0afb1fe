/**
 * The parts of the FC 3.0 SDK the invoker uses, in one module so the build can emit it as its own file
 * (`dist/<name>/fc-sdk.js`, ~0.6 MB with the OpenAPI runtime) that is required only on the first fan-out. Nothing
 * else may import this module: lib/cloud/invoke.ts loads it with a dynamic `import('./fc-sdk')`.
 */
import FcClientModule, { InvokeFunctionHeaders, InvokeFunctionRequest } from '@alicloud/fc20230330';
import { Config } from '@alicloud/openapi-client';

/** The SDK's CommonJS default export, whether the loader hands it over directly (esbuild) or wrapped (Node ESM). */
function defaultExport<T>(mod: unknown): T {
  const d = (mod as { default?: unknown }).default;
  return ((d as { default?: unknown } | undefined)?.default ?? d ?? mod) as T;
}

export const FcClient = defaultExport<typeof FcClientModule>({ default: FcClientModule });
export { Config, InvokeFunctionHeaders, InvokeFunctionRequest };
