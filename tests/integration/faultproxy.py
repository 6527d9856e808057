"""FaultProxy: TCP proxies on 127.0.0.1 between cluster members, with faults.

Topology. Every member advertises, as its peer URL, the port of a proxy
listener in front of it (one listener per destination member) instead of its
real peer port. All members share one --initial-cluster, so every member dials
member B through B's one listener. The proxy tells the dialers apart without
reading the protocol: when a connection arrives, it looks up the client's
ephemeral port in /proc/net/tcp, finds the socket inode, and finds the member
process that holds that inode among its file descriptors (/proc/PID/fd). So
every connection is attributed to a directed pair (source, destination), and
every link A->B is distinct from C->B. A connection whose source is not a
known member (etcdctl, a test probe) has source None; link faults never apply
to it, only `isolate`/`cut` on its destination do when `include_unknown` is set.

Faults are per direction of data flow, not per TCP connection: a connection
that A opened to B carries bytes A->B (requests) and B->A (responses), and a
connection that B opened to A carries the reverse. `cut(A, B)` stops every
byte that flows from A to B, on connections opened by either side, so it
models a one-way network failure whatever the wire protocol does.

- cut(src, dst) / cut_both(a, b) / isolate(name): bytes in the cut direction
  are discarded (a black hole, like a real partition: the sender sees time-outs,
  not resets). Connections that lost bytes are closed on heal so that both ends
  reconnect with clean framing.
- delay(src, dst, seconds): every chunk is held for that long, order kept.
- drop(src, dst, probability): each forwarded chunk resets its connection with
  that probability (a flaky link: byte streams cannot lose bytes in the middle
  and stay parseable, so loss is modelled as connection resets).
- heal(): removes every fault and closes the connections that lost bytes.

All of it runs on one asyncio loop in a daemon thread; the control methods are
thread-safe and take effect on chunks forwarded after they return.
"""

import asyncio
import os
import random
import threading
import time


def _socket_inode_for_client_port(port, server_port):
    """Inode of the 127.0.0.1:port -> 127.0.0.1:server_port socket, or None."""
    local = "0100007F:%04X" % port
    remote = "0100007F:%04X" % server_port
    try:
        with open("/proc/net/tcp") as table:
            next(table)
            for line in table:
                fields = line.split()
                if fields[1] == local and fields[2] == remote:
                    return fields[9]
    except OSError:
        return None
    return None


def _pid_holds_inode(pid, inode):
    target = "socket:[%s]" % inode
    fd_dir = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fd_dir):
            try:
                if os.readlink(os.path.join(fd_dir, fd)) == target:
                    return True
            except OSError:
                continue
    except OSError:
        return False
    return False


class _Link:
    """Fault settings of one directed pair (source, destination)."""

    __slots__ = ("cut", "delay_s", "drop_probability")

    def __init__(self):
        self.cut = False
        self.delay_s = 0.0
        self.drop_probability = 0.0


class _Connection:
    def __init__(self, source, destination, writers):
        self.source = source
        self.destination = destination
        self.writers = writers
        self.lost_bytes = False

    def close(self):
        for writer in self.writers:
            try:
                writer.transport.abort()
            except Exception:  # already closed
                pass


class FaultProxy:
    CHUNK_BYTES = 64 * 1024
    # Bound on the time spent attributing one connection (the dialer's socket
    # appears in /proc as soon as connect() returns, so this is rarely needed).
    IDENTIFY_ATTEMPTS = 20

    def __init__(self):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faultproxy", daemon=True)
        self._thread.start()
        self._lock = threading.Lock()
        self._links = {}  # (source, destination) -> _Link
        self._servers = {}  # destination -> (asyncio server, listen port, target port)
        self._pids = {}  # member name -> pid (callable results refreshed on lookup)
        self._connections = set()
        self._random = random.Random(1)
        self.stats = {"connections": 0, "unattributed": 0, "chunks_discarded": 0}

    # ---- topology -------------------------------------------------------
    def set_pid(self, name, pid):
        """Tells the proxy which process is member `name` (None when down)."""
        with self._lock:
            self._pids[name] = pid

    def add_destination(self, name, listen_port, target_port):
        """Listens on listen_port and forwards to target_port (member name)."""
        future = asyncio.run_coroutine_threadsafe(
            self._start_server(name, listen_port, target_port), self._loop
        )
        future.result(timeout=10)

    async def _start_server(self, name, listen_port, target_port):
        server = await asyncio.start_server(
            lambda r, w: self._accept(name, target_port, listen_port, r, w),
            host="127.0.0.1",
            port=listen_port,
            reuse_address=True,
        )
        self._servers[name] = (server, listen_port, target_port)

    # ---- faults ---------------------------------------------------------
    def _link(self, source, destination):
        key = (source, destination)
        if key not in self._links:
            self._links[key] = _Link()
        return self._links[key]

    def cut(self, source, destination):
        """Discards every byte flowing from source to destination."""
        with self._lock:
            self._link(source, destination).cut = True

    def cut_both(self, a, b):
        self.cut(a, b)
        self.cut(b, a)

    def isolate(self, name):
        """Cuts every link into and out of member `name`."""
        for other in self.members():
            if other != name:
                self.cut_both(name, other)

    def delay(self, source, destination, seconds):
        with self._lock:
            self._link(source, destination).delay_s = float(seconds)

    def drop(self, source, destination, probability):
        with self._lock:
            self._link(source, destination).drop_probability = float(probability)

    def heal(self):
        """Removes every fault; connections that lost bytes are closed."""
        with self._lock:
            self._links.clear()
            tainted = [c for c in self._connections if c.lost_bytes]
        for connection in tainted:
            self._loop.call_soon_threadsafe(connection.close)

    def connections(self):
        """(source, destination) of every open proxied connection."""
        with self._lock:
            return sorted(((c.source or "?"), c.destination) for c in self._connections)

    def members(self):
        with self._lock:
            return sorted(set(self._pids) | set(self._servers))

    def close(self):
        async def shutdown():
            for server, _, _ in self._servers.values():
                server.close()
            with self._lock:
                connections = list(self._connections)
            for connection in connections:
                connection.close()
            # Connections accepted meanwhile start new tasks: repeat until none.
            for _ in range(10):
                current = asyncio.current_task()
                tasks = [t for t in asyncio.all_tasks() if t is not current]
                if not tasks:
                    break
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    # ---- forwarding -----------------------------------------------------
    def _identify(self, client_port, listen_port):
        inode = _socket_inode_for_client_port(client_port, listen_port)
        if inode is None:
            return None
        with self._lock:
            candidates = [(n, p) for n, p in self._pids.items() if p]
        for name, pid in candidates:
            if _pid_holds_inode(pid, inode):
                return name
        return None

    async def _accept(self, destination, target_port, listen_port, reader, writer):
        client_port = writer.get_extra_info("peername")[1]
        source = None
        for _ in range(self.IDENTIFY_ATTEMPTS):
            source = self._identify(client_port, listen_port)
            if source is not None:
                break
            await asyncio.sleep(0.005)
        self.stats["connections"] += 1
        if source is None:
            self.stats["unattributed"] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            writer.transport.abort()
            return
        connection = _Connection(source, destination, [writer, up_writer])
        with self._lock:
            self._connections.add(connection)
        try:
            await asyncio.gather(
                self._pump(connection, reader, up_writer, source, destination),
                self._pump(connection, up_reader, writer, destination, source),
                return_exceptions=True,
            )
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()

    def _fault(self, source, destination):
        if source is None or destination is None:
            return (False, 0.0, 0.0)
        with self._lock:
            link = self._links.get((source, destination))
            if link is None:
                return (False, 0.0, 0.0)
            return (link.cut, link.delay_s, link.drop_probability)

    async def _pump(self, connection, reader, writer, source, destination):
        """Copies one direction; `source` -> `destination` is the data flow."""
        while True:
            chunk = await reader.read(self.CHUNK_BYTES)
            if not chunk:
                break
            cut, delay_s, drop_probability = self._fault(source, destination)
            if cut:
                connection.lost_bytes = True
                self.stats["chunks_discarded"] += 1
                continue
            if drop_probability and self._random.random() < drop_probability:
                connection.close()
                break
            if delay_s:
                # Holding the pump preserves order and applies back-pressure.
                await asyncio.sleep(delay_s)
            writer.write(chunk)
            await writer.drain()
        try:
            writer.write_eof()
        except Exception:  # peer already gone
            pass


def wait_until(predicate, timeout_s, interval_s=0.05, message="condition"):
    """Polls predicate() until it is truthy; raises AssertionError on time-out."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except AssertionError:
            raise
        except Exception as error:  # transient: the cluster is changing
            last_error = error
        time.sleep(interval_s)
    raise AssertionError(
        "timed out after %.1fs waiting for %s%s"
        % (timeout_s, message, "" if last_error is None else " (last error: %r)" % last_error)
    )
