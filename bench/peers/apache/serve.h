// SPDX-License-Identifier: GPL-2.0
/*
 * What the two Apache Thrift C++ peers share: pick TNonblockingServer or
 * TThreadedServer (framed transport, binary protocol, as the bench's
 * clients speak), print "listening" once the socket listens.
 *
 *   <server> nonblocking|threaded PORT
 */
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TNonblockingServer.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TNonblockingServerSocket.h>
#include <thrift/transport/TServerSocket.h>

namespace kgen_bench {

using namespace apache::thrift;

/* preServe() runs once the server socket listens: the bench waits for it. */
class SayListening : public server::TServerEventHandler {
public:
	void preServe() override
	{
		std::printf("listening\n");
		std::fflush(stdout);
	}
};

inline int serve(int argc, char **argv, std::shared_ptr<TProcessor> processor)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: %s nonblocking|threaded PORT\n", argv[0]);
		return 2;
	}
	int port = std::atoi(argv[2]);
	auto proto = std::make_shared<protocol::TBinaryProtocolFactory>();
	std::shared_ptr<server::TServer> srv;

	if (!std::strcmp(argv[1], "nonblocking")) {
		/* One I/O thread and no thread manager: handlers run in the I/O thread. */
		auto sock = std::make_shared<transport::TNonblockingServerSocket>("127.0.0.1", port);
		srv = std::make_shared<server::TNonblockingServer>(processor, proto, sock);
	} else if (!std::strcmp(argv[1], "threaded")) {
		auto sock = std::make_shared<transport::TServerSocket>("127.0.0.1", port);
		auto framed = std::make_shared<transport::TFramedTransportFactory>();
		srv = std::make_shared<server::TThreadedServer>(processor, sock, framed, proto);
	} else {
		std::fprintf(stderr, "%s: unknown server %s\n", argv[0], argv[1]);
		return 2;
	}
	srv->setServerEventHandler(std::make_shared<SayListening>());
	srv->serve();
	return 0;
}

} // namespace kgen_bench
