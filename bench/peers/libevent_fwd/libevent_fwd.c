// SPDX-License-Identifier: GPL-2.0
/*
 * The seed's user-space forwarder baseline (Slick thesis, section 3.3.2),
 * hand-written on libevent bufferevents: framed strict binary oneway
 * msg(1: i32 key, 2: string payload) messages from any number of clients
 * go, unchanged, to backend key mod N. The frame moves from the client's
 * input evbuffer to the backend's output evbuffer without being copied
 * (evbuffer_remove_buffer). As in the seed, parsing is only as robust as
 * the benchmark needs: a frame whose first field is not 1: i32 is dropped.
 *
 *   libevent-fwd PORT BACKEND_HOST FIRST_BACKEND_PORT BACKENDS
 *
 * The backends are connected at start-up (not by a Thrift connect() call:
 * this forwarder speaks only msg()); "listening" is printed once they are.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FRAME	(16u << 20)
#define MAX_BACKENDS	256

static struct bufferevent *backends[MAX_BACKENDS];
static int nbackends;
static unsigned long long forwarded, dropped;

static uint32_t get_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* The key of a framed msg() call, or -1 if the frame is not one. */
static long frame_key(const unsigned char *f, uint32_t len)
{
	uint32_t name_len, off;

	if (len < 12 || (get_be32(f) & 0xffff0000u) != 0x80010000u)
		return -1;
	name_len = get_be32(f + 4);
	if (name_len > len - 12)
		return -1;
	off = 8 + name_len + 4;		/* version, name, seqid */
	if (len - off < 7 || f[off] != 8 || f[off + 1] != 0 || f[off + 2] != 1)
		return -1;
	return get_be32(f + off + 3);
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char hdr[4], *f;
	uint32_t len;
	long key;

	(void)arg;
	while (evbuffer_get_length(in) >= 4) {
		evbuffer_copyout(in, hdr, 4);
		len = get_be32(hdr);
		if (len > MAX_FRAME) {
			bufferevent_free(bev);
			return;
		}
		if (evbuffer_get_length(in) < 4 + (size_t)len)
			return;
		/* Enough of the frame to find the key, contiguous. */
		f = evbuffer_pullup(in, 4 + (len < 64 ? len : 64));
		key = frame_key(f + 4, len < 60 ? len : 60);
		if (key < 0) {
			evbuffer_drain(in, 4 + len);
			dropped++;
			continue;
		}
		evbuffer_remove_buffer(in, bufferevent_get_output(backends[key % nbackends]),
				       4 + len);
		forwarded++;
	}
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct bufferevent *bev;
	int one = 1;

	(void)sa;
	(void)salen;
	(void)arg;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, client_read, NULL, client_event, NULL);
	bufferevent_enable(bev, EV_READ);
}

static void on_signal(evutil_socket_t sig, short what, void *base)
{
	(void)sig;
	(void)what;
	event_base_loopexit(base, NULL);
}

static int connect_backend(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;
	int fd;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct evconnlistener *listener;
	struct event_base *base;
	struct event *sigterm;
	int i, first;

	if (argc != 5) {
		fprintf(stderr, "usage: %s PORT BACKEND_HOST FIRST_BACKEND_PORT BACKENDS\n", argv[0]);
		return 2;
	}
	first = atoi(argv[3]);
	nbackends = atoi(argv[4]);
	if (nbackends <= 0 || nbackends > MAX_BACKENDS)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		return 1;
	for (i = 0; i < nbackends; i++) {
		int fd = connect_backend(argv[2], first + i);

		if (fd < 0) {
			perror("backend");
			return 1;
		}
		backends[i] = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
		if (!backends[i])
			return 1;
		bufferevent_enable(backends[i], EV_WRITE);
	}
	sa.sin_port = htons(atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = evconnlistener_new_bind(base, on_accept, NULL,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
					   (struct sockaddr *)&sa, sizeof(sa));
	if (!listener) {
		perror("listen");
		return 1;
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	event_add(sigterm, NULL);
	printf("listening\n");
	fflush(stdout);
	event_base_dispatch(base);
	fprintf(stderr, "forwarded %llu dropped %llu\n", forwarded, dropped);
	return 0;
}
