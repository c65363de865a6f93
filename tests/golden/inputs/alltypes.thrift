/** Every kind of type in arguments, results and exceptions. */

enum Color {
  RED = 1,
  GREEN = 2,
  BLUE = 3,
}

typedef i64 Timestamp
typedef list<string> Names

struct Point {
  1: required double x,
  2: required double y,
  3: optional string label,
}

union Shape {
  1: Point point,
  2: list<Point> polygon,
}

exception Oops {
  1: i32 code,
  2: string message,
}

exception Worse {
  1: binary blob,
}

const i32 ANSWER = 42

/** Takes and returns everything. */
service Everything {
  void nothing(),
  bool flip(1: bool b),
  i8 byte8(1: i8 b),
  i16 short16(1: i16 s),
  i32 int32(1: i32 i),
  i64 long64(1: i64 l),
  double dbl(1: double d),
  string str(1: string s),
  binary bin(1: binary b),
  uuid id(1: uuid u),
  Color color(1: Color c),
  Timestamp when(1: Timestamp t),
  Names names(1: Names n),
  Point point(1: Point p),
  Shape shape(1: Shape s),
  list<i32> ints(1: list<i32> l),
  set<string> strings(1: set<string> s),
  map<string, Point> points(1: map<string, Point> m),
  map<i32, list<map<string, Color>>> nested(1: map<i32, list<map<string, Color>>> n),
  /** Several arguments, two exceptions. */
  i32 many(1: i32 a, 2: string b, 3: Point c, 4: list<Color> d, 5: i64 int) throws (1: Oops oops, 2: Worse worse),
  oneway void fire(1: string event, 2: i32 call),
}
