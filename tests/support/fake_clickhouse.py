#!/usr/bin/env python3
"""fake_clickhouse.py - a stand-in for a ClickHouse server that misbehaves on
purpose, for the fault tests (tests/e2e/test_clickhouse.sh):

  fake_clickhouse.py PORTFILE MODE

listens on a free loopback port (written to PORTFILE) and answers every
request as MODE says:
  silent      accepts the connection, reads the request, never answers
  exc200      HTTP 200 whose body is a ClickHouse exception (Code 241)
  midstream   HTTP 200, a Native block of one UInt8 column, then an exception
  exc200new   HTTP 200 with the X-ClickHouse-Exception-Code header and the
              later versions' wording (Code: 394. DB::Exception: ...)
  insert200:PORT
              a proxy to the real server on PORT, except that every INSERT
              of Native rows is answered HTTP 200 whose body, after the
              server would have read the rows, is a ClickHouse exception
              (Code 241): a load's rows refused inside a success answer
Runs until killed.
"""
import socket
import sys
import threading
import time

EXC_18 = (b"Code: 241, e.displayText() = DB::Exception: Memory limit (for "
          b"query) exceeded: would use 9.31 GiB, e.what() = DB::Exception\n")
EXC_NEW = b"Code: 394. DB::Exception: Query was cancelled. (QUERY_WAS_CANCELLED) (version 23.3.1.1)\n"


def native_block():
    # 1 column, 3 rows: "x" UInt8 = 1, 2, 3
    return bytes([1, 3, 1]) + b"x" + bytes([5]) + b"UInt8" + bytes([1, 2, 3])


def read_request(conn):
    """The request's body (b"" when the connection ends first)."""
    data = b""
    conn.settimeout(5)
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return b""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
            if k.strip().lower() == b"transfer-encoding" and b"chunked" in v.lower():
                chunked = True
        if chunked:
            while not body.endswith(b"0\r\n\r\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    return b""
                body += chunk
        else:
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return b""
                body += chunk
        return body
    except OSError:
        return b""


def dechunk(body):
    out, i = b"", 0
    while True:
        j = body.index(b"\r\n", i)
        n = int(body[i:j].split(b";")[0], 16)
        if n == 0:
            return out
        out += body[j + 2:j + 2 + n]
        i = j + 2 + n + 2


def proxy(conn, upstream):
    """insert200: forward to the real server, answer INSERTs of Native rows
    with 200 and an exception."""
    import http.client
    import urllib.parse
    up = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
    while True:
        conn.settimeout(30)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
        except OSError:
            return
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        method, path = lines[0].split(b" ")[0:2]
        hdrs, length, chunked = {}, 0, False
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            k, v = k.strip().decode(), v.strip().decode()
            if k.lower() == "content-length":
                length = int(v)
            elif k.lower() == "transfer-encoding":
                chunked = "chunked" in v.lower()
            elif k.lower() in ("authorization", "content-type", "content-encoding",
                               "x-clickhouse-user", "x-clickhouse-key"):
                hdrs[k] = v
        body = rest
        try:
            if chunked:
                while not body.endswith(b"0\r\n\r\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    body += chunk
                body = dechunk(body)
            else:
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    body += chunk
        except OSError:
            return
        # the statement is in the URL's query=, or heads the body
        q = urllib.parse.unquote_plus(path.decode()).upper() + " " + \
            body[:400].decode("latin-1").upper()
        if "INSERT" in q and "FORMAT NATIVE" in q:
            status, reason, rbody, rtype = 200, "OK", EXC_18, "text/plain; charset=UTF-8"
        else:
            up.request(method.decode(), path.decode(), body=body, headers=hdrs)
            r = up.getresponse()
            status, reason, rbody = r.status, r.reason, r.read()
            rtype = r.getheader("Content-Type", "text/plain")
        out = ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
               "Connection: keep-alive\r\n\r\n" % (status, reason, rtype, len(rbody)))
        try:
            conn.sendall(out.encode() + rbody)
        except OSError:
            return


def answer(conn, mode):
    if mode.startswith("insert200:"):
        return proxy(conn, int(mode.split(":")[1]))
    while True:
        req = read_request(conn)
        if mode == "silent":
            time.sleep(3600)
            return
        if b"system.databases" in req and mode == "midstream":
            # open's probe: the database exists (count() = 1)
            body = bytes([1, 1, 7]) + b"count()" + bytes([6]) + b"UInt64" + (1).to_bytes(8, "little")
            ctype, extra = b"application/octet-stream", b""
        elif mode == "exc200":
            body, ctype, extra = EXC_18, b"text/plain; charset=UTF-8", b""
        elif mode == "exc200new":
            body, ctype = EXC_NEW, b"text/plain; charset=UTF-8"
            extra = b"X-ClickHouse-Exception-Code: 394\r\n"
        else:
            body, ctype, extra = native_block() + EXC_18, b"application/octet-stream", b""
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\n" + extra +
                b"Content-Length: " + str(len(body)).encode() +
                b"\r\nConnection: keep-alive\r\n\r\n")
        try:
            conn.sendall(head + body)
        except OSError:
            return


def main():
    portfile, mode = sys.argv[1], sys.argv[2]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=answer, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
