// json-bigint ships no types; what lib/cloud/json-parse.ts uses of it.
declare module 'json-bigint' {
  interface JsonBigint {
    parse(text: string): unknown;
    stringify(value: unknown): string;
  }
  const jsonBigint: JsonBigint;
  export default jsonBigint;
}
