#!/usr/bin/python3
"""The histogram service imgfleet replaces: a ZeroMQ broker (ROUTER/DEALER proxy), worker
processes that compute a Pillow histogram of raw RGB bytes, and clients that decode the image
themselves and send the raw pixels, each waiting for its answer before the next (REQ/REP).

usage: zmq_histogram.py <image.png> <clients> <requests per client> <workers>
prints JSON: requests, ok, errors, wallS, cpuS (all processes), requestsPerSecond, latencyMs {p50, p95, p99, max, mean}
"""
import io
import json
import resource
import sys
import threading
import time
from multiprocessing import Process

import zmq
from PIL import Image

FRONT = 'tcp://127.0.0.1:{}'
BACK = 'tcp://127.0.0.1:{}'


def broker(front_port, back_port):
    ctx = zmq.Context()
    front = ctx.socket(zmq.ROUTER)
    front.bind(FRONT.format(front_port))
    back = ctx.socket(zmq.DEALER)
    back.bind(BACK.format(back_port))
    zmq.proxy(front, back)


def worker(back_port):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REP)
    sock.connect(BACK.format(back_port))
    while True:
        header, pixels = sock.recv_multipart()
        width, height = json.loads(header)
        hist = Image.frombytes('RGB', (width, height), pixels).histogram()
        sock.send(json.dumps({'width': width, 'height': height,
                              'red': hist[0:256], 'green': hist[256:512], 'blue': hist[512:768]}).encode())


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main():
    path, clients, per_client, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    png = open(path, 'rb').read()
    front_port, back_port = free_port(), free_port()
    procs = [Process(target=broker, args=(front_port, back_port), daemon=True)]
    procs += [Process(target=worker, args=(back_port,), daemon=True) for _ in range(workers)]
    for p in procs:
        p.start()
    time.sleep(0.5)

    ctx = zmq.Context()
    latencies, errors = [], [0]
    lock = threading.Lock()

    def client():
        sock = ctx.socket(zmq.REQ)
        sock.connect(FRONT.format(front_port))
        for _ in range(per_client):
            started = time.perf_counter()
            image = Image.open(io.BytesIO(png)).convert('RGB')
            sock.send_multipart([json.dumps(image.size).encode(), image.tobytes()])
            reply = json.loads(sock.recv())
            elapsed = (time.perf_counter() - started) * 1000
            good = sum(reply['red']) == reply['width'] * reply['height']
            with lock:
                latencies.append(elapsed)
                if not good:
                    errors[0] += 1
        sock.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for p in procs:
        p.terminate()
        p.join()
    usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)

    latencies.sort()
    total = clients * per_client
    at = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)
    print(json.dumps({
        'clients': clients, 'requests': total, 'ok': total - errors[0], 'errors': errors[0],
        'wallS': round(wall, 3), 'cpuS': round(sum(u.ru_utime + u.ru_stime for u in usage), 3), 'requestsPerSecond': round(total / wall, 1),
        'latencyMs': {'p50': at(0.5), 'p95': at(0.95), 'p99': at(0.99), 'max': round(latencies[-1], 1),
                      'mean': round(sum(latencies) / len(latencies), 1)},
    }))


if __name__ == '__main__':
    main()
