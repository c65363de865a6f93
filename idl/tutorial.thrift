/**
 * Apache Thrift's tutorial service: a calculator whose results are logged
 * (by logid) and read back through the inherited SharedService.getStruct().
 */

include "shared.thrift"

namespace cpp tutorial
namespace java tutorial
namespace py tutorial

/** A typedef: MyInteger is an i32. */
typedef i32 MyInteger

const i32 INT32CONSTANT = 9853
const map<string,string> MAPCONSTANT = {'hello':'world', 'goodnight':'moon'}

enum Operation {
  ADD = 1,
  SUBTRACT = 2,
  MULTIPLY = 3,
  DIVIDE = 4
}

/** One calculation: num1 op num2. */
struct Work {
  1: i32 num1 = 0,
  2: i32 num2,
  3: Operation op,
  4: optional string comment,
}

/** The operation cannot be done (unknown op, division by zero...). */
exception InvalidOperation {
  1: i32 whatOp,
  2: string why
}

service Calculator extends shared.SharedService {

  /** Does nothing: checks the server is there. */
  void ping(),

  /** Returns num1 + num2. */
  i32 add(1:i32 num1, 2:i32 num2),

  /**
   * Returns w.num1 (w.op) w.num2 and logs the result under logid, where
   * getStruct(logid) finds it.
   */
  i32 calculate(1:i32 logid, 2:Work w) throws (1:InvalidOperation ouch),

  /** Oneway: the client does not wait. */
  oneway void zip()

}
