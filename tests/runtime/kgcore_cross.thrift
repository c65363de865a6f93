// Types for cross-checking the C binary protocol against thriftpy2
// (tests/runtime/test_core_cross.py; kgwalk.c "gen" writes S.echo args).
struct Inner {
  1: i32 a,
  2: string b,
}

struct All {
  1: bool f_bool,
  2: byte f_byte,
  3: i16 f_i16,
  4: i32 f_i32,
  5: i64 f_i64,
  6: double f_double,
  7: string f_string,
  8: binary f_binary,
  9: Inner f_inner,
  10: list<i32> f_list,
  11: set<string> f_set,
  12: map<string, Inner> f_map,
  13: list<list<i64>> f_nested,
  14: map<i16, list<bool>> f_mapl,
  15: list<Inner> f_structs,
  16: set<double> f_dset,
  17: map<binary, map<i64, set<byte>>> f_deep,
}

service S {
  All echo(1: All arg, 2: i32 n),
}
