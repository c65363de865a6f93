/**
 * A message forwarder: one-way messages are spread over a set of backends
 * (other Thrift servers speaking the same service) by key, without being
 * re-encoded.
 */

/** A backend server: where messages are forwarded to. */
struct Backend {
  /** IPv4 or IPv6 literal. */
  1: required string addr,
  2: required i32 port,
}

/** The backends could not be used. */
exception BackendError {
  1: string message,
  2: i32 errno_value,
}

/** Forwarder statistics. */
struct ForwarderStats {
  1: i64 forwarded,
  2: i64 dropped,
  3: i32 backends,
}

service Forwarder {
  /** Forward a message to backend number (key mod the number of backends). */
  oneway void msg(1: i32 key, 2: string payload),

  /** Connect to these backends (replacing any previous set). */
  void connect(1: list<Backend> backends) throws (1: BackendError err),

  /** Close every backend connection. */
  void close_backends(),

  /** How many messages went where. */
  ForwarderStats stats(),
}
