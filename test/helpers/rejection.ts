/**
 * What a promise was rejected with, or a test failure when it was not: a test asserts on the error's fields after.
 * The type is the caller's claim about the client's error shape (an SDK's error object, a typed error).
 * @example const err = await rejection<PopError>(client.request('X', {})); expect(err.code).toBe('Throttling');
 */
export async function rejection<E = unknown>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected the call to fail');
}
