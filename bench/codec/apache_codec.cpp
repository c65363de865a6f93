// SPDX-License-Identifier: GPL-2.0
/*
 * bench/codec, Apache Thrift C++'s side: the classes Debian's `thrift --gen
 * cpp` makes of codec.thrift, written to and read from a TMemoryBuffer with
 * the binary and compact protocols, twice: "apache", TBinaryProtocol and
 * TCompactProtocol as generated code and most users have them (templates on
 * the abstract TTransport: a virtual call per transport access), and
 * "apache-tmpl", the same templates on TMemoryBuffer itself (inlined), as a
 * performance-minded user would pick them. Same values, same timing loop and
 * JSON lines as kgen_codec.c; encodings go to OUTDIR/<impl>-<proto>-<value>.bin.
 * Decoding ends with readEnd(), as the processor does after each message.
 *
 *   apache-codec OUTDIR [check]   (check: write the encodings, time nothing)
 */
#include <memory>
#include <string>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "codec_types.h"
#include "values.h"

using namespace apache::thrift;
using transport::TMemoryBuffer;

static codec::Xtruct xtruct(const char *s, int8_t b, int32_t i, int64_t l)
{
	codec::Xtruct x;

	x.__set_string_thing(s);
	x.__set_byte_thing(b);
	x.__set_i32_thing(i);
	x.__set_i64_thing(l);
	return x;
}

#define BARRIER() __asm__ volatile("" ::: "memory")

template <class Proto, class T>
static void bench_value(const char *impl, const char *dir, const char *pname, const char *name, const T &value)
{
	auto buf = std::make_shared<TMemoryBuffer>(BLOB_SIZE + 4096);
	Proto proto(buf);
	uint8_t *p;
	uint32_t len;
	T out;

	value.write(&proto);
	buf->getBuffer(&p, &len);
	std::string enc((const char *)p, len);
	std::string file = std::string(impl) + "-" + pname + "-" + name + ".bin";
	write_file(dir, file.c_str(), enc.data(), enc.size());
	/* A read buffer that observes the encoding (no copy per decode). */
	auto in = std::make_shared<TMemoryBuffer>((uint8_t *)enc.data(), (uint32_t)enc.size());
	Proto inproto(in);

	out.read(&inproto);
	in->readEnd();
	if (!(out == value)) {
		std::fprintf(stderr, "%s %s: decoded value differs\n", pname, name);
		std::exit(1);
	}
	TIME_OP(impl, pname, name, "encode",
		buf->resetBuffer(); value.write(&proto); BARRIER());
	TIME_OP(impl, pname, name, "decode",
		in->resetBuffer((uint8_t *)enc.data(), (uint32_t)enc.size()); out.read(&inproto); in->readEnd();
		BARRIER());
	TIME_OP(impl, pname, name, "roundtrip",
		buf->resetBuffer(); value.write(&proto); out.read(&proto); buf->readEnd();
		BARRIER());
}

template <class Proto>
static void bench_all(const char *impl, const char *dir, const char *pname)
{
	codec::Msg msg;
	codec::Insanity ins;
	codec::Blob blob;
	std::string data(BLOB_SIZE, '\0');

	msg.__set_key(MSG_KEY);
	msg.__set_payload(MSG_PAYLOAD);
	ins.userMap[codec::Numberz::FIVE] = 5;
	ins.userMap[codec::Numberz::EIGHT] = 8;
	ins.__isset.userMap = true;
	ins.xtructs.push_back(xtruct("Goodbye4", 4, 4, 4));
	ins.xtructs.push_back(xtruct("Hello2", 2, 2, 2));
	ins.__isset.xtructs = true;
	for (size_t i = 0; i < BLOB_SIZE; i++)
		data[i] = (char)blob_byte(i);
	blob.__set_data(data);
	bench_value<Proto>(impl, dir, pname, "msg", msg);
	bench_value<Proto>(impl, dir, pname, "xtruct", xtruct("Zero", 1, -3, -5));
	bench_value<Proto>(impl, dir, pname, "insanity", ins);
	bench_value<Proto>(impl, dir, pname, "blob", blob);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		std::fprintf(stderr, "usage: %s OUTDIR [check]\n", argv[0]);
		return 2;
	}
	codec_timing = !(argc > 2 && !std::strcmp(argv[2], "check"));
	bench_all<protocol::TBinaryProtocol>("apache", argv[1], "binary");
	bench_all<protocol::TCompactProtocol>("apache", argv[1], "compact");
	bench_all<protocol::TBinaryProtocolT<TMemoryBuffer>>("apache-tmpl", argv[1], "binary");
	bench_all<protocol::TCompactProtocolT<TMemoryBuffer>>("apache-tmpl", argv[1], "compact");
	return 0;
}
