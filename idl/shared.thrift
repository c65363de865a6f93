/**
 * Apache Thrift's tutorial, shared part: a struct and a service that
 * tutorial.thrift includes and extends.
 */

namespace cpp shared
namespace java shared
namespace py shared

struct SharedStruct {
  1: i32 key
  2: string value
}

service SharedService {
  SharedStruct getStruct(1: i32 key)
}
