// SPDX-License-Identifier: GPL-2.0
/* Apache Thrift C++ peer of examples/echo: Echo.echo() returns its argument. */
#include "Echo.h"
#include "serve.h"

class EchoHandler : public EchoIf {
public:
	void echo(std::string &ret, const std::string &data) override { ret = data; }
	void echo_string(std::string &ret, const std::string &s) override { ret = s; }
	void echo_list(std::vector<int32_t> &ret, const std::vector<int32_t> &v) override { ret = v; }
	void ping(const int64_t) override { ping_count++; }
	int64_t pings() override { return ping_count; }

private:
	int64_t ping_count = 0;
};

int main(int argc, char **argv)
{
	return kgen_bench::serve(argc, argv,
				 std::make_shared<EchoProcessor>(std::make_shared<EchoHandler>()));
}
