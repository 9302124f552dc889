#!/usr/bin/env python3
"""A userspace TCP/UDP relay that adds a fixed delay in each direction.

This kernel has no netem qdisc, so tests/bench/tls-peers.sh uses this relay
to give the lab's servers a realistic round trip: every chunk read from one
side is written to the other DELAY milliseconds later. Chunks keep their
order, and reading never waits for an earlier chunk's delay, so a stream is
delayed without being throttled (a pipe with latency, not a stop-and-wait
link). A half-close (EOF) is passed on after the same delay.

The kernel completes the client's TCP handshake with the relay at once, so
the relay holds every new connection for one round trip (2 x DELAY) before
it passes anything on: that stands in for the SYN / SYN-ACK round trip a
real link would cost each connection.

    relay.py --delay-ms 25 --tcp 198.18.0.99:993=127.0.14.143:993 \
             --udp 198.18.0.53:53=127.0.10.53:53 [--stats FILE]

Prints "ready" on stdout once every listener is bound.

With --stats FILE the relay counts, per upstream address, the TCP
connections it was handed and the most that were open at once, and writes
them as JSON to FILE when it stops (SIGTERM, SIGINT). A connection counts
as open from its accept until the client side ends (EOF or error on the
client's socket): that is the client's view, which the scanner's
per-address limit governs. The relay's own close comes up to DELAY later
(the EOF is passed on after the delay), so it is counted separately as
"max_relay_open" and is not the client's concurrency. The counts are taken
on the relay's event loop, so two events in the same loop turn (a close and
the next accept) may be seen in either order.

With --limit N the relay behaves like a server at its connection limit
(Exim's defaults, issue 20): at most N connections per upstream host at
once, each slot held --hold-ms after its connection ends; beyond that it
writes --busy (a plain-text line such as "421 Too many concurrent SMTP
connections") and closes, and counts it as "busy_refused".

A UDP client address (a DNS client uses a new source port per query) gets
an upstream socket of its own, closed after UPSTREAM_IDLE seconds without
traffic, so thousands of queries do not exhaust the file descriptors.
"""

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import sys
from collections import defaultdict

# Seconds an idle per-client UDP upstream socket is kept.
UPSTREAM_IDLE = 10.0


class Counts:
    """Per upstream host: connections handed over, most open at once."""

    def __init__(self):
        self.total = defaultdict(int)
        self.open = defaultdict(int)
        self.max_open = defaultdict(int)
        self.relay_open = defaultdict(int)
        self.max_relay_open = defaultdict(int)
        self.refused = defaultdict(int)
        self.busy_refused = defaultdict(int)
        self.slots = defaultdict(int)
        self.listeners = defaultdict(set)

    def accepted(self, host):
        self.total[host] += 1
        for now, peak in ((self.open, self.max_open), (self.relay_open, self.max_relay_open)):
            now[host] += 1
            peak[host] = max(peak[host], now[host])

    def client_ended(self, host):
        self.open[host] -= 1

    def relay_closed(self, host):
        self.relay_open[host] -= 1

    def report(self):
        return {
            host: {
                "listeners": sorted(self.listeners[host]),
                "connections": self.total[host],
                "max_open": self.max_open[host],
                "max_relay_open": self.max_relay_open[host],
                "upstream_refused": self.refused[host],
                "busy_refused": self.busy_refused[host],
            }
            for host in sorted(self.listeners)
        }


COUNTS = Counts()


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def mapping(text):
    listen, _, target = text.partition("=")
    return endpoint(listen), endpoint(target)


async def pump(reader, writer, delay, on_end=None):
    """Copy reader to writer, each chunk `delay` seconds after it arrived.
    `on_end` is called once when the reader ends (EOF or error)."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    delivery = asyncio.create_task(deliver())
    try:
        while True:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                if on_end is not None:
                    on_end()
                raise
            if not data and on_end is not None:
                on_end()
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await delivery
    except (ConnectionError, OSError):
        delivery.cancel()


# The event loop keeps only weak references to tasks, and asyncio's stream
# protocol drops its own when the client disconnects first: hold every
# session here until it has closed both sides.
SESSIONS = set()


# --limit, --hold-ms and --busy (see the module comment); no limit by default.
LIMIT = {"slots": 0, "hold": 0.0, "busy": b""}


async def tcp_session(client_reader, client_writer, target, delay):
    SESSIONS.add(asyncio.current_task())
    host = target[0]
    try:
        if LIMIT["slots"] and COUNTS.slots[host] >= LIMIT["slots"]:
            COUNTS.busy_refused[host] += 1
            client_writer.write(LIMIT["busy"])
            try:
                await client_writer.drain()
            except (ConnectionError, OSError):
                pass
            client_writer.close()
            return
        COUNTS.slots[host] += 1
        try:
            await relay_session(client_reader, client_writer, target, delay)
        finally:
            # A server keeps the slot a while after the close.
            await asyncio.sleep(LIMIT["hold"])
            COUNTS.slots[host] -= 1
    finally:
        SESSIONS.discard(asyncio.current_task())


async def relay_session(client_reader, client_writer, target, delay):
    host = target[0]
    COUNTS.accepted(host)
    ended = False

    def client_ended():
        nonlocal ended
        if not ended:
            ended = True
            COUNTS.client_ended(host)

    try:
        try:
            server_reader, server_writer = await asyncio.open_connection(*target)
        except OSError:
            COUNTS.refused[host] += 1
            client_writer.close()
            return
        try:
            # The TCP handshake's round trip (see the module comment).
            await asyncio.sleep(2 * delay)
            await asyncio.gather(
                pump(client_reader, server_writer, delay, client_ended),
                pump(server_reader, client_writer, delay),
            )
        finally:
            for writer in (client_writer, server_writer):
                writer.close()
    finally:
        client_ended()
        COUNTS.relay_closed(host)


class UdpRelay(asyncio.DatagramProtocol):
    """Each client address gets its own upstream socket; both ways delayed."""

    def __init__(self, target, delay):
        self.target, self.delay, self.upstream = target, delay, {}
        self.last_used = {}

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, client):
        loop = asyncio.get_running_loop()
        loop.call_later(self.delay, self.spawn, data, client)

    def spawn(self, data, client):
        task = asyncio.ensure_future(self.forward(data, client))
        SESSIONS.add(task)
        task.add_done_callback(SESSIONS.discard)

    async def forward(self, data, client):
        loop = asyncio.get_running_loop()
        if client not in self.upstream:
            reply_to = self

            class Upstream(asyncio.DatagramProtocol):
                def datagram_received(self, answer, _):
                    loop.call_later(reply_to.delay, reply_to.transport.sendto, answer, client)

            transport, _ = await loop.create_datagram_endpoint(Upstream, remote_addr=self.target)
            self.upstream[client] = transport
            loop.call_later(UPSTREAM_IDLE, self.expire, client)
        self.last_used[client] = loop.time()
        self.upstream[client].sendto(data)

    def expire(self, client):
        """Closes the client's upstream socket once it has been idle."""
        loop = asyncio.get_running_loop()
        idle = loop.time() - self.last_used.get(client, 0)
        if idle < UPSTREAM_IDLE:
            loop.call_later(UPSTREAM_IDLE - idle, self.expire, client)
            return
        self.last_used.pop(client, None)
        transport = self.upstream.pop(client, None)
        if transport is not None:
            transport.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=25.0)
    parser.add_argument("--tcp", type=mapping, action="append", default=[])
    parser.add_argument("--udp", type=mapping, action="append", default=[])
    parser.add_argument("--stats", help="write per-upstream TCP connection counts (JSON) here on exit")
    parser.add_argument("--limit", type=int, default=0, help="most TCP connections per upstream host at once (0: none)")
    parser.add_argument("--hold-ms", type=float, default=0.0, help="a slot stays taken this long after its connection ends")
    parser.add_argument("--busy", default="421 Too many concurrent SMTP connections", help="the line written beyond --limit")
    args = parser.parse_args()
    LIMIT.update(slots=args.limit, hold=args.hold_ms / 1000, busy=(args.busy + "\r\n").encode())
    delay = args.delay_ms / 1000
    # One descriptor per client and upstream socket: take what the hard
    # limit allows, a batch scan keeps hundreds open.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 1 << 16)), hard))
    except (ValueError, OSError):
        pass
    loop = asyncio.get_running_loop()
    servers = []
    for listen, target in args.tcp:
        COUNTS.listeners[target[0]].add(f"{listen[0]}:{listen[1]}")
        servers.append(
            await asyncio.start_server(
                lambda r, w, t=target: tcp_session(r, w, t, delay),
                *listen,
                reuse_address=True,
                family=socket.AF_INET,
            )
        )
    for listen, target in args.udp:
        await loop.create_datagram_endpoint(lambda t=target: UdpRelay(t, delay), local_addr=listen)
    print("ready", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for server in servers:
        server.close()
    if args.stats:
        with open(args.stats + ".tmp", "w") as out:
            json.dump(COUNTS.report(), out, indent=1)
        os.replace(args.stats + ".tmp", args.stats)
    # Connections still open are simply dropped with the process.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
