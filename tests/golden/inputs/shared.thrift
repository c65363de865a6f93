/** Shared definitions, included by derived.thrift. */

struct SharedStruct {
  1: i32 key,
  2: string value,
}

/** A base service in an included file. */
service SharedService {
  /** Look a value up by key. */
  SharedStruct getStruct(1: i32 key),
  oneway void ping(),
}
