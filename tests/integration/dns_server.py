"""A tiny DNS responder on 127.0.0.1 for the tests: it answers A queries
for the names it is given (and nothing else), so a test can change where
a host name points while nginx runs.

    dns = DnsServer({"redis.test": "127.0.0.2"}, ttl=1).start()
    dns.port                      # resolver 127.0.0.1:<port>
    dns.names["redis.test"] = "127.0.0.3"
"""

import socket
import struct
import threading


class DnsServer:
    def __init__(self, names, ttl=1):
        self.names = dict(names)
        self.ttl = ttl
        self.asked = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.sock.close()

    def _serve(self):
        for _ in range(100000):
            try:
                q, peer = self.sock.recvfrom(512)
            except OSError:
                return
            answer = self._answer(q)
            if answer:
                self.sock.sendto(answer, peer)

    def _answer(self, q):
        if len(q) < 17:
            return None
        qid, = struct.unpack("!H", q[:2])
        # the question: labels, then type and class
        i, labels = 12, []
        while i < len(q) and q[i] != 0:
            n = q[i]
            labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        question = q[12:i + 5]
        qtype, = struct.unpack("!H", q[i + 1:i + 3])
        name = ".".join(labels).lower()
        self.asked += 1
        ip = self.names.get(name)
        if ip is None:
            # NXDOMAIN
            return struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question
        if qtype != 1:
            # the name exists, no record of that type
            return struct.pack("!HHHHHH", qid, 0x8180, 1, 0, 0, 0) + question
        rr = struct.pack("!HHHIH", 0xc00c, 1, 1, self.ttl, 4) + \
            socket.inet_aton(ip)
        return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + rr
