/**
 * A JSON body as `Response.json()` returns it: unchecked data from the wire, read by a
 * test that asserts its shape with `expect`. Named so the tests say what it is.
 */
export type Json = Awaited<ReturnType<Response['json']>>;
