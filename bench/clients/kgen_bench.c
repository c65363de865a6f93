// SPDX-License-Identifier: GPL-2.0
/*
 * Load generators for the benchmarks, in C so that the client costs little
 * next to the server being measured (in the VM, with -icount, guest time
 * counts instructions: a Python client would dilute every ratio).
 *
 *   kgen-bench echo  HOST PORT BUFSIZE ROUNDS
 *       The paper's echo client (section 3.2): send the buffer size, then
 *       ROUNDS times send BUFSIZE bytes and read them back.
 *   kgen-bench fwd   HOST PORT PAYLOAD COUNT BACKENDS CLIENT_ID
 *       The paper's forwarder load (section 3.3): COUNT prerecorded framed
 *       Thrift messages "msg(key, payload)", keys spread over BACKENDS.
 *   kgen-bench connect HOST PORT BACKEND_HOST FIRST_PORT BACKENDS
 *       Call the forwarder's connect() with BACKENDS backends on consecutive
 *       ports and check the reply. (Not the Python client: in a VM with
 *       -icount, starting Python over 9p costs minutes of guest time.)
 *   kgen-bench sink  PORT EXPECTED_BYTES
 *       A backend: accept one connection, count bytes until EXPECTED_BYTES
 *       arrived (or the peer closed, or 300 s passed with nothing: guest
 *       time, which jumps ahead while a VM waits for 9p), print them with the monotonic times of
 *       the first and last byte (one clock for every process in the VM).
 *
 * Each prints one JSON object on stdout with the bytes moved and the
 * seconds taken (CLOCK_MONOTONIC).
 *
 * KGEN_BENCH_GO=FIFO (fwd): after connecting, print "ready" on stderr and
 * wait for one byte from the FIFO, so that every client is loaded and
 * connected before the first one sends (in a VM, starting a binary over
 * 9p takes longer than a whole run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int connect_to(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;
	int fd;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("inet_pton");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send");
		p += n;
		len -= n;
	}
}

static void recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("recv");
		p += n;
		len -= n;
	}
}

static int cmd_echo(char **argv)
{
	int port = atoi(argv[1]);
	size_t size = strtoul(argv[2], NULL, 0);
	long rounds = strtol(argv[3], NULL, 0);
	char *out = malloc(size), *in = malloc(size);
	uint32_t be = htonl(size);
	double t0, t1;
	int fd;
	long i;

	if (!out || !in || !size)
		die("buffer");
	memset(out, 'e', size);
	fd = connect_to(argv[0], port);
	send_all(fd, &be, sizeof(be));
	t0 = now();
	for (i = 0; i < rounds; i++) {
		send_all(fd, out, size);
		recv_all(fd, in, size);
		if (memcmp(in, out, size)) {
			fprintf(stderr, "echo: bytes differ\n");
			return 1;
		}
	}
	t1 = now();
	close(fd);
	printf("{\"size\": %zu, \"rounds\": %ld, \"bytes\": %zu, \"seconds\": %.9f}\n",
	       size, rounds, size * rounds * 2, t1 - t0);
	return 0;
}

static size_t put_be32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
	return 4;
}

/* One framed, strict binary ONEWAY message: msg(1: i32 key, 2: string payload). */
static size_t build_msg(unsigned char *p, int32_t key, const char *payload, uint32_t len,
			int32_t seqid)
{
	static const char name[] = "msg";
	unsigned char *start = p;

	p += 4;				/* frame length, filled in below */
	p += put_be32(p, 0x80010004u);	/* version 1, ONEWAY */
	p += put_be32(p, sizeof(name) - 1);
	memcpy(p, name, sizeof(name) - 1);
	p += sizeof(name) - 1;
	p += put_be32(p, seqid);
	*p++ = 8;			/* field 1: i32 */
	*p++ = 0;
	*p++ = 1;
	p += put_be32(p, key);
	*p++ = 11;			/* field 2: string */
	*p++ = 0;
	*p++ = 2;
	p += put_be32(p, len);
	memcpy(p, payload, len);
	p += len;
	*p++ = 0;			/* stop */
	put_be32(start, p - start - 4);
	return p - start;
}

/* Block until the start signal: one byte from the FIFO named by KGEN_BENCH_GO. */
static void wait_for_go(void)
{
	const char *path = getenv("KGEN_BENCH_GO");
	char c;
	int fd;

	if (!path)
		return;
	fprintf(stderr, "ready\n");
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open KGEN_BENCH_GO");
	if (read(fd, &c, 1) != 1)
		die("read KGEN_BENCH_GO");
	close(fd);
}

static int cmd_fwd(char **argv)
{
	int port = atoi(argv[1]);
	uint32_t payload = strtoul(argv[2], NULL, 0);
	long count = strtol(argv[3], NULL, 0);
	int backends = atoi(argv[4]);
	int client = atoi(argv[5]);
	size_t one = payload + 64, batch = 64, used = 0, total = 0;
	unsigned char *buf = malloc(one * batch);
	char *text = malloc(payload + 1);
	double t0, t1;
	long i;
	int fd;

	if (!buf || !text || backends <= 0)
		die("args");
	memset(text, 'p', payload);
	fd = connect_to(argv[0], port);
	wait_for_go();
	t0 = now();
	for (i = 0; i < count; i++) {
		/* The key picks the backend; client id and sequence make it traceable. */
		int32_t key = (int32_t)((client + i) % backends);

		used += build_msg(buf + used, key, text, payload, (int32_t)i);
		if (used + one > one * batch || i == count - 1) {
			send_all(fd, buf, used);
			total += used;
			used = 0;
		}
	}
	t1 = now();
	close(fd);
	printf("{\"client\": %d, \"messages\": %ld, \"bytes\": %zu, \"seconds\": %.9f}\n",
	       client, count, total, t1 - t0);
	return 0;
}

static size_t put_str(unsigned char *p, const char *s)
{
	size_t len = strlen(s);

	put_be32(p, len);
	memcpy(p + 4, s, len);
	return 4 + len;
}

/*
 * Forwarder.connect(1: list<Backend> backends), Backend = {1: string addr,
 * 2: i32 port}: one framed strict binary CALL, then the reply must be a
 * REPLY whose result struct is empty (void, no BackendError).
 */
static int cmd_connect(char **argv)
{
	int port = atoi(argv[1]);
	const char *backend_host = argv[2];
	int first = atoi(argv[3]);
	int backends = atoi(argv[4]);
	size_t cap = 64 + (size_t)backends * (strlen(backend_host) + 16);
	unsigned char *buf = malloc(cap), *p;
	unsigned char hdr[4];
	uint32_t len, type;
	int fd, i;

	if (!buf || backends <= 0)
		die("args");
	p = buf + 4;
	p += put_be32(p, 0x80010001u);	/* version 1, CALL */
	p += put_str(p, "connect");
	p += put_be32(p, 1);		/* seqid */
	*p++ = 15;			/* field 1: list<struct> */
	*p++ = 0;
	*p++ = 1;
	*p++ = 12;
	p += put_be32(p, backends);
	for (i = 0; i < backends; i++) {
		*p++ = 11;		/* Backend.addr */
		*p++ = 0;
		*p++ = 1;
		p += put_str(p, backend_host);
		*p++ = 8;		/* Backend.port */
		*p++ = 0;
		*p++ = 2;
		p += put_be32(p, first + i);
		*p++ = 0;
	}
	*p++ = 0;			/* end of the arguments */
	put_be32(buf, p - buf - 4);
	fd = connect_to(argv[0], port);
	send_all(fd, buf, p - buf);
	recv_all(fd, hdr, 4);
	memcpy(&len, hdr, 4);
	len = ntohl(len);
	if (len < 4 + 4 + 7 + 4 + 1 || len > cap)
		die("connect: bad reply frame");
	recv_all(fd, buf, len);
	close(fd);
	memcpy(&type, buf, 4);
	type = ntohl(type);
	/* REPLY, "connect", seqid 1, then the result struct: a lone STOP. */
	if (type != 0x80010002u || buf[len - 1] != 0 || len != 4 + 4 + 7 + 4 + 1) {
		fprintf(stderr, "connect: the forwarder refused (reply type %#x, %u bytes)\n",
			type, len);
		return 1;
	}
	printf("{\"connected\": %d}\n", backends);
	return 0;
}

static int cmd_sink(char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[0])) };
	unsigned long long expected = strtoull(argv[1], NULL, 0), got = 0;
	struct timeval idle = { .tv_sec = 300 };
	double t0 = 0, t1 = 0;
	char buf[65536];
	int one = 1;
	int lfd, fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0)
		die("bind/listen");
	printf("{\"listening\": %d}\n", ntohs(sa.sin_port));
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	/* A stalled forwarder shows as missing bytes, not as a hung benchmark. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
	while (got < expected) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!got)
			t0 = now();
		got += n;
		t1 = now();
	}
	printf("{\"bytes\": %llu, \"t0\": %.9f, \"t1\": %.9f}\n", got, t0, t1);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "echo"))
		return cmd_echo(argv + 2);
	if (argc >= 8 && !strcmp(argv[1], "fwd"))
		return cmd_fwd(argv + 2);
	if (argc >= 7 && !strcmp(argv[1], "connect"))
		return cmd_connect(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "sink"))
		return cmd_sink(argv + 2);
	fprintf(stderr, "usage: kgen-bench echo HOST PORT BUFSIZE ROUNDS\n"
		"       kgen-bench fwd HOST PORT PAYLOAD COUNT BACKENDS CLIENT_ID\n"
		"       kgen-bench connect HOST PORT BACKEND_HOST FIRST_PORT BACKENDS\n"
		"       kgen-bench sink PORT EXPECTED_BYTES\n");
	return 2;
}
