/**
 * The values bench/codec encodes and decodes: issue 10's message, ThriftTest's
 * Xtruct and Insanity (as in idl/ThriftTest.thrift, which Debian's thrift 0.17
 * cannot read: it has uuid) and a 1 MiB binary field.
 */
namespace cpp codec

enum Numberz {
  ONE = 1,
  TWO,
  THREE,
  FIVE = 5,
  SIX,
  EIGHT = 8
}

typedef i64 UserId

/** The forwarder's message: an i32 and a 32-byte string. */
struct Msg {
  1: i32 key,
  2: string payload,
}

struct Xtruct {
  1: string string_thing,
  4: i8 byte_thing,
  9: i32 i32_thing,
  11: i64 i64_thing
}

struct Insanity {
  1: map<Numberz, UserId> userMap,
  2: list<Xtruct> xtructs
}

/** One large binary field. */
struct Blob {
  1: binary data,
}

/** thrift-kgen generates for a service; this one is never served. */
service CodecBench {
  void nop(),
}
