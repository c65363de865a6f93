// SPDX-License-Identifier: GPL-2.0
/*
 * Apache Thrift C++ peer of examples/forwarder: msg(key, payload) goes to
 * backend key mod N as the same oneway call, through a ForwarderClient per
 * backend (framed, binary); connect() replaces the backends. What a C++
 * Thrift user would write: the message is decoded and encoded again.
 */
#include <mutex>
#include <vector>

#include <thrift/transport/TSocket.h>

#include "Forwarder.h"
#include "serve.h"

using namespace apache::thrift;

struct BackendConn {
	std::shared_ptr<transport::TTransport> transport;
	std::unique_ptr<ForwarderClient> client;
	std::mutex lock;	/* TThreadedServer: one thread per client */
};

class ForwarderHandler : public ForwarderIf {
public:
	void msg(const int32_t key, const std::string &payload) override
	{
		std::lock_guard<std::mutex> g(set_lock);

		if (backends.empty()) {
			dropped++;
			return;
		}
		BackendConn &b = *backends[(uint32_t)key % backends.size()];
		std::lock_guard<std::mutex> bg(b.lock);
		try {
			b.client->msg(key, payload);
			forwarded++;
		} catch (const std::exception &) {
			dropped++;
		}
	}

	void connect(const std::vector<Backend> &list) override
	{
		std::vector<std::unique_ptr<BackendConn>> fresh;

		for (const Backend &be : list) {
			auto c = std::make_unique<BackendConn>();
			auto sock = std::make_shared<transport::TSocket>(be.addr, be.port);

			c->transport = std::make_shared<transport::TFramedTransport>(sock);
			try {
				c->transport->open();
			} catch (const std::exception &e) {
				BackendError err;
				err.message = e.what();
				err.errno_value = 111;
				throw err;
			}
			c->client = std::make_unique<ForwarderClient>(
				std::make_shared<protocol::TBinaryProtocol>(c->transport));
			fresh.push_back(std::move(c));
		}
		std::lock_guard<std::mutex> g(set_lock);
		backends.swap(fresh);
	}

	void close_backends() override
	{
		std::lock_guard<std::mutex> g(set_lock);
		backends.clear();
	}

	void stats(ForwarderStats &ret) override
	{
		std::lock_guard<std::mutex> g(set_lock);
		ret.forwarded = forwarded;
		ret.dropped = dropped;
		ret.backends = (int32_t)backends.size();
	}

private:
	/* Held across a forward: simple, and TNonblockingServer is single-threaded anyway. */
	std::mutex set_lock;
	std::vector<std::unique_ptr<BackendConn>> backends;
	int64_t forwarded = 0, dropped = 0;
};

int main(int argc, char **argv)
{
	return kgen_bench::serve(argc, argv,
				 std::make_shared<ForwarderProcessor>(std::make_shared<ForwarderHandler>()));
}
