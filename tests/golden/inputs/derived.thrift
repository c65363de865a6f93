/** A service that extends one from an included file. */
include "shared.thrift"

exception NotFound {
  1: string what,
}

service Derived extends shared.SharedService {
  /** Store a value; throws NotFound when the slot does not exist. */
  void put(1: shared.SharedStruct s) throws (1: NotFound nf),
  list<shared.SharedStruct> all(),
}

service Leaf extends Derived {
  i64 count(),
}
