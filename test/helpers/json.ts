/**
 * A JSON document or YAML tree a test reads field by field (an emulator's raw answer, a parsed s.yaml, an event a
 * function echoed back). The assertions are what check its shape, so the type stays open; this alias is the one
 * place tests may use `any`, and lint forbids it everywhere else.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: tests probe untyped documents
export type Json = any;
