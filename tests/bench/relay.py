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
             --udp 198.18.0.53:53=127.0.10.53:53

Prints "ready" on stdout once every listener is bound.
"""

import argparse
import asyncio
import os
import signal
import socket
import sys


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def mapping(text):
    listen, _, target = text.partition("=")
    return endpoint(listen), endpoint(target)


async def pump(reader, writer, delay):
    """Copy reader to writer, each chunk `delay` seconds after it arrived."""
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
            data = await reader.read(65536)
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


async def tcp_session(client_reader, client_writer, target, delay):
    SESSIONS.add(asyncio.current_task())
    try:
        await relay_session(client_reader, client_writer, target, delay)
    finally:
        SESSIONS.discard(asyncio.current_task())


async def relay_session(client_reader, client_writer, target, delay):
    try:
        server_reader, server_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    try:
        # The TCP handshake's round trip (see the module comment).
        await asyncio.sleep(2 * delay)
        await asyncio.gather(
            pump(client_reader, server_writer, delay),
            pump(server_reader, client_writer, delay),
        )
    finally:
        for writer in (client_writer, server_writer):
            writer.close()


class UdpRelay(asyncio.DatagramProtocol):
    """Each client address gets its own upstream socket; both ways delayed."""

    def __init__(self, target, delay):
        self.target, self.delay, self.upstream = target, delay, {}

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
        self.upstream[client].sendto(data)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=25.0)
    parser.add_argument("--tcp", type=mapping, action="append", default=[])
    parser.add_argument("--udp", type=mapping, action="append", default=[])
    args = parser.parse_args()
    delay = args.delay_ms / 1000
    loop = asyncio.get_running_loop()
    servers = []
    for listen, target in args.tcp:
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
    # Connections still open are simply dropped with the process.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
