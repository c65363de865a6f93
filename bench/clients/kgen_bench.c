// SPDX-License-Identifier: GPL-2.0
/*
 * Load generators for the benchmarks, in C so that the client costs little
 * next to the server being measured (in the VM, with -icount, guest time
 * counts instructions: a Python client would dilute every ratio).
 *
 *   kgen-bench echo  HOST PORT BUFSIZE ROUNDS
 *       The paper's echo client (section 3.2): send the buffer size, then
 *       ROUNDS times send BUFSIZE bytes and read them back.
 *   kgen-bench techo HOST PORT BUFSIZE ROUNDS
 *       The same as Thrift calls: ROUNDS framed strict binary calls of
 *       Echo.echo(1: binary data) with BUFSIZE bytes, each reply checked.
 *       Both echo clients report the latency of each round (p50, p99).
 *   kgen-bench snap [PID]
 *       Counters read before and after each round: the CPU time of process
 *       PID (every thread, exited ones included: its process CPU clock, the
 *       sum of the sum_exec_runtime that each task's /proc/.../schedstat
 *       shows), the schedstat run time of every kernel thread by name
 *       (kworkers, the kthread echo) and the cpu line of /proc/stat.
 *   kgen-bench fwd   HOST PORT PAYLOAD COUNT BACKENDS CLIENT_ID
 *       The paper's forwarder load (section 3.3): COUNT prerecorded framed
 *       Thrift messages "msg(key, payload)", keys spread over BACKENDS.
 *   kgen-bench connect HOST PORT BACKEND_HOST FIRST_PORT BACKENDS
 *       Call the forwarder's connect() with BACKENDS backends on consecutive
 *       ports and check the reply. (Not the Python client: in a VM with
 *       -icount, starting Python over 9p costs minutes of guest time.)
 *   kgen-bench sink  PORT EXPECTED_BYTES [hash]
 *       A backend: accept one connection, count bytes until EXPECTED_BYTES
 *       arrived (or the peer closed, or 300 s passed with nothing: guest
 *       time, which jumps ahead while a VM waits for 9p), print them with the monotonic times of
 *       the first and last byte (one clock for every process in the VM);
 *       with "hash", also the FNV-1a hash of the bytes (tests compare peers).
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
#include <dirent.h>
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

static double cpu_self(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v. */
static double percentile(const double *v, long n, double p)
{
	long k = (long)(p / 100.0 * n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void print_echo(size_t size, long rounds, double t0, double t1, double cpu, double *lat)
{
	qsort(lat, rounds, sizeof(*lat), cmp_double);
	printf("{\"size\": %zu, \"rounds\": %ld, \"bytes\": %zu, \"seconds\": %.9f,"
	       " \"client_cpu\": %.9f, \"p50_us\": %.3f, \"p99_us\": %.3f}\n",
	       size, rounds, size * rounds * 2, t1 - t0, cpu,
	       percentile(lat, rounds, 50) * 1e6, percentile(lat, rounds, 99) * 1e6);
}

static int cmd_echo(char **argv)
{
	int port = atoi(argv[1]);
	size_t size = strtoul(argv[2], NULL, 0);
	long rounds = strtol(argv[3], NULL, 0);
	char *out = malloc(size), *in = malloc(size);
	double *lat = malloc(sizeof(double) * (rounds > 0 ? rounds : 1));
	uint32_t be = htonl(size);
	double t0, t1, c0, prev;
	int fd;
	long i;

	if (!out || !in || !lat || !size || rounds <= 0)
		die("buffer");
	memset(out, 'e', size);
	fd = connect_to(argv[0], port);
	send_all(fd, &be, sizeof(be));
	c0 = cpu_self();
	t0 = prev = now();
	for (i = 0; i < rounds; i++) {
		double t;

		send_all(fd, out, size);
		recv_all(fd, in, size);
		if (memcmp(in, out, size)) {
			fprintf(stderr, "echo: bytes differ\n");
			return 1;
		}
		t = now();
		lat[i] = t - prev;
		prev = t;
	}
	t1 = now();
	print_echo(size, rounds, t0, t1, cpu_self() - c0, lat);
	close(fd);
	return 0;
}

static size_t put_be32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
	return 4;
}

/*
 * Echo.echo(1: binary data) as a framed strict binary CALL; the reply must be
 * REPLY "echo" with the same seqid and field 0 holding the same bytes.
 */
static int cmd_techo(char **argv)
{
	static const char name[] = "echo";
	int port = atoi(argv[1]);
	uint32_t size = strtoul(argv[2], NULL, 0);
	long rounds = strtol(argv[3], NULL, 0);
	size_t hdr = 4 + 4 + 4 + (sizeof(name) - 1) + 4 + 3 + 4;
	size_t len = hdr + size + 1;
	unsigned char *out = malloc(len), *in = malloc(len), *p;
	double *lat = malloc(sizeof(double) * (rounds > 0 ? rounds : 1));
	double t0, t1, c0, prev;
	int fd;
	long i;

	if (!out || !in || !lat || !size || rounds <= 0)
		die("buffer");
	p = out + 4;
	p += put_be32(p, 0x80010001u);	/* version 1, CALL */
	p += put_be32(p, sizeof(name) - 1);
	memcpy(p, name, sizeof(name) - 1);
	p += sizeof(name) - 1;
	p += put_be32(p, 0);		/* seqid, set per call */
	*p++ = 11;			/* field 1: binary */
	*p++ = 0;
	*p++ = 1;
	p += put_be32(p, size);
	memset(p, 'e', size);
	p[size] = 0;			/* stop */
	put_be32(out, len - 4);
	fd = connect_to(argv[0], port);
	c0 = cpu_self();
	t0 = prev = now();
	for (i = 0; i < rounds; i++) {
		size_t seq_at = 4 + 4 + 4 + sizeof(name) - 1;
		double t;

		put_be32(out + seq_at, (uint32_t)i);
		send_all(fd, out, len);
		/* The reply has the same shape: field 0 instead of field 1. */
		recv_all(fd, in, len);
		out[4 + 3] = 2;		/* compare as a REPLY ... */
		out[hdr - 5] = 0;	/* ... of field 0 */
		if (memcmp(in, out, len)) {
			fprintf(stderr, "techo: reply %ld differs\n", i);
			return 1;
		}
		out[4 + 3] = 1;
		out[hdr - 5] = 1;
		t = now();
		lat[i] = t - prev;
		prev = t;
	}
	t1 = now();
	print_echo(size, rounds, t0, t1, cpu_self() - c0, lat);
	close(fd);
	return 0;
}

/*
 * Run time in ns (schedstat's first field) of task @pid, or -1; @runs, if
 * given, is set to its third field: how many times it was switched in.
 */
static long long schedstat_ns2(const char *pid, long long *runs)
{
	char path[300];
	long long ns = -1, wait, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%.64s/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld %lld %lld", &ns, &wait, &n) < 1)
		ns = -1;
	fclose(f);
	if (runs)
		*runs = n;
	return ns;
}

/* Times the threads of process @pid were switched in (live threads only). */
static long long process_switches(int pid)
{
	char path[300];
	long long total = 0, runs;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%d/task/%.32s", pid, d->d_name);
		if (schedstat_ns2(path, &runs) >= 0)
			total += runs;
	}
	closedir(dir);
	return total;
}

static int cmd_snap(int argc, char **argv)
{
	static char runs_json[1 << 16];
	char path[300], comm[64], line[512];
	struct dirent *d;
	const char *sep = "";
	DIR *proc;
	FILE *f;

	printf("{\"t\": %.9f", now());
	if (argc > 0 && atoi(argv[0]) > 0) {
		clockid_t clk;
		struct timespec ts;

		if (clock_getcpuclockid(atoi(argv[0]), &clk) || clock_gettime(clk, &ts))
			die("server cpu clock");
		printf(", \"server_ns\": %lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
		printf(", \"server_switches\": %lld", process_switches(atoi(argv[0])));
	}
	f = fopen("/proc/stat", "r");
	if (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		printf(", \"stat_cpu\": \"%s\"", line);
		/* The guest's context switches, all tasks: the "ctxt" line. */
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "ctxt ", 5))
				printf(", \"ctxt\": %lld", atoll(line + 5));
	}
	if (f)
		fclose(f);
	/* Kernel threads: their parent is kthreadd (pid 2), or they are it. */
	printf(", \"kthreads\": {");
	proc = opendir("/proc");
	if (!proc)
		die("/proc");
	while ((d = readdir(proc))) {
		int ppid = -1;
		char state;
		long long ns, runs;
		size_t n;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
		/* "pid (comm) state ppid": comm may hold spaces and parentheses. */
		if (!strrchr(line, ')') || sscanf(strrchr(line, ')') + 1, " %c %d", &state, &ppid) != 2)
			continue;
		if (ppid != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		n = strcspn(comm, "\n\"\\");
		comm[n] = 0;
		ns = schedstat_ns2(d->d_name, &runs);
		if (ns < 0)
			continue;
		printf("%s\"%s %s\": %lld", sep, d->d_name, comm, ns);
		/* Switches of the kernel threads, in a second object printed after this one. */
		n = strlen(runs_json);
		if (n + 64 < sizeof(runs_json))
			snprintf(runs_json + n, sizeof(runs_json) - n, "%s\"%s\": %lld", sep,
				 d->d_name, runs);
		sep = ", ";
	}
	closedir(proc);
	printf("}, \"kthread_switches\": {%s}}\n", runs_json);
	return 0;
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
	double t0, t1, c0;
	long i;
	int fd;

	if (!buf || !text || backends <= 0)
		die("args");
	memset(text, 'p', payload);
	fd = connect_to(argv[0], port);
	wait_for_go();
	c0 = cpu_self();
	t0 = now();
	for (i = 0; i < count; i++) {
		/* The key picks the backend. */
		int32_t key = (int32_t)((client + i) % backends);

		/* seqid 0, as Apache's oneway clients send: every forwarder's output is the same. */
		used += build_msg(buf + used, key, text, payload, 0);
		if (used + one > one * batch || i == count - 1) {
			send_all(fd, buf, used);
			total += used;
			used = 0;
		}
	}
	t1 = now();
	close(fd);
	printf("{\"client\": %d, \"messages\": %ld, \"bytes\": %zu, \"seconds\": %.9f,"
	       " \"client_cpu\": %.9f}\n", client, count, total, t1 - t0, cpu_self() - c0);
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
	unsigned long long hash = 0xcbf29ce484222325ULL;	/* FNV-1a */
	int hashing = argv[2] && !strcmp(argv[2], "hash");
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
		if (hashing) {
			ssize_t k;

			for (k = 0; k < n; k++)
				hash = (hash ^ (unsigned char)buf[k]) * 0x100000001b3ULL;
		}
		got += n;
		t1 = now();
	}
	printf("{\"bytes\": %llu, \"t0\": %.9f, \"t1\": %.9f", got, t0, t1);
	if (hashing)
		printf(", \"fnv1a\": \"%016llx\"", hash);
	printf("}\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "echo"))
		return cmd_echo(argv + 2);
	if (argc >= 6 && !strcmp(argv[1], "techo"))
		return cmd_techo(argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "snap"))
		return cmd_snap(argc - 2, argv + 2);
	if (argc >= 8 && !strcmp(argv[1], "fwd"))
		return cmd_fwd(argv + 2);
	if (argc >= 7 && !strcmp(argv[1], "connect"))
		return cmd_connect(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "sink"))
		return cmd_sink(argv + 2);
	fprintf(stderr, "usage: kgen-bench echo HOST PORT BUFSIZE ROUNDS\n"
		"       kgen-bench techo HOST PORT BUFSIZE ROUNDS\n"
		"       kgen-bench snap [PID]\n"
		"       kgen-bench fwd HOST PORT PAYLOAD COUNT BACKENDS CLIENT_ID\n"
		"       kgen-bench connect HOST PORT BACKEND_HOST FIRST_PORT BACKENDS\n"
		"       kgen-bench sink PORT EXPECTED_BYTES [hash]\n");
	return 2;
}
