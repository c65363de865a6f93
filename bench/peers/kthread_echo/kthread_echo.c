// SPDX-License-Identifier: GPL-2.0
/*
 * The seed's kernel echo (Slick thesis, section 3.2), written the way it
 * describes it: one kernel thread accepts a connection, reads the client's
 * 4-byte buffer size, then does blocking receives of that many bytes and
 * sends them back until the client closes; then the next connection. A
 * benchmark peer of thrift-kgen's evented echo (bench/run.py), not a server
 * to deploy: one client at a time, no limits beyond the buffer size cap.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>

#define KECHO_MAX_BUF	(1 << 20)

static int port = 9400;
module_param(port, int, 0444);
MODULE_PARM_DESC(port, "TCP port on 127.0.0.1 (default 9400)");

static struct socket *listener;
static struct task_struct *thread;
/* The connection being served, so that module exit can wake a blocked recv. */
static DEFINE_MUTEX(conn_lock);
static struct socket *conn;
static bool stopping;		/* under conn_lock: exit began, serve no more */

static int kecho_recv_all(struct socket *sock, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct kvec iov = { .iov_base = buf + got, .iov_len = len - got };
		struct msghdr msg = { };
		int n = kernel_recvmsg(sock, &msg, &iov, 1, len - got, 0);

		if (n <= 0)
			return n ? n : -ECONNRESET;
		got += n;
	}
	return 0;
}

static int kecho_send_all(struct socket *sock, void *buf, size_t len)
{
	size_t sent = 0;

	while (sent < len) {
		struct kvec iov = { .iov_base = buf + sent, .iov_len = len - sent };
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		int n = kernel_sendmsg(sock, &msg, &iov, 1, len - sent);

		if (n <= 0)
			return n ? n : -EPIPE;
		sent += n;
	}
	return 0;
}

static void kecho_serve(struct socket *sock)
{
	__be32 size_be;
	u32 size;
	void *buf;

	if (kecho_recv_all(sock, &size_be, sizeof(size_be)))
		return;
	size = be32_to_cpu(size_be);
	if (!size || size > KECHO_MAX_BUF)
		return;
	buf = kvmalloc(size, GFP_KERNEL | __GFP_NOWARN);
	if (!buf)
		return;
	while (!kthread_should_stop()) {
		if (kecho_recv_all(sock, buf, size) || kecho_send_all(sock, buf, size))
			break;
	}
	kvfree(buf);
}

static int kecho_thread(void *unused)
{
	while (!kthread_should_stop()) {
		struct socket *sock;

		if (kernel_accept(listener, &sock, 0)) {
			/* Shut down by exit, or out of memory: do not spin. */
			schedule_timeout_interruptible(1);
			continue;
		}
		mutex_lock(&conn_lock);
		if (stopping) {
			/* Returns only once kthread_stop() asks: it needs the task. */
			mutex_unlock(&conn_lock);
			sock_release(sock);
			continue;
		}
		conn = sock;
		mutex_unlock(&conn_lock);
		kecho_serve(sock);
		mutex_lock(&conn_lock);
		conn = NULL;
		mutex_unlock(&conn_lock);
		sock_release(sock);
	}
	return 0;
}

static int __init kecho_init(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int ret;

	if (port <= 0 || port > 65535)
		return -EINVAL;
	sa.sin_port = htons(port);
	ret = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP, &listener);
	if (ret)
		return ret;
	sock_set_reuseaddr(listener->sk);
	ret = kernel_bind(listener, (struct sockaddr *)&sa, sizeof(sa));
	if (!ret)
		ret = kernel_listen(listener, 16);
	if (ret)
		goto out_release;
	thread = kthread_run(kecho_thread, NULL, "kecho");
	if (IS_ERR(thread)) {
		ret = PTR_ERR(thread);
		goto out_release;
	}
	pr_info("listening on 127.0.0.1:%d\n", port);
	return 0;

out_release:
	sock_release(listener);
	return ret;
}

static void __exit kecho_exit(void)
{
	/* Wake the thread wherever it blocks: in accept, or in a recv/send. */
	kernel_sock_shutdown(listener, SHUT_RDWR);
	mutex_lock(&conn_lock);
	stopping = true;
	if (conn)
		kernel_sock_shutdown(conn, SHUT_RDWR);
	mutex_unlock(&conn_lock);
	kthread_stop(thread);
	sock_release(listener);
}

module_init(kecho_init);
module_exit(kecho_exit);
MODULE_DESCRIPTION("Blocking kthread echo: the Slick thesis' section 3.2 design (a benchmark peer)");
MODULE_LICENSE("GPL");
