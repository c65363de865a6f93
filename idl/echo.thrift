/**
 * The echo service of the Slick paper (section 3.2) as a Thrift service.
 *
 * The paper measured a raw byte echo (the client sends a 4-byte big-endian
 * buffer size, then every byte it sends is echoed back); examples/echo serves
 * that too, on a second port, from the same module.
 */

service Echo {
  /** Returns data unchanged. */
  binary echo(1: binary data),

  /** Returns s unchanged. */
  string echo_string(1: string s),

  /** Returns the list unchanged. */
  list<i32> echo_list(1: list<i32> values),

  /** Oneway: counted (see pings()), never answered. */
  oneway void ping(1: i64 seq),

  /** How many ping() messages were served since the server started. */
  i64 pings(),
}
