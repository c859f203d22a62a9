"""docket serve: time from exec to the ready line, and resident memory when
idle and with 1,000 idle connections. Prints a Markdown table.

    bench/server_startup.py path/to/docket"""
import resource
import socket
import subprocess
import sys
import tempfile
import time


def resident_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def start(docket, *args):
    began = time.perf_counter()
    process = subprocess.Popen([docket, "serve", "--port", "0", "--quiet", *args],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    elapsed_ms = (time.perf_counter() - began) * 1000
    port = int(line.split("(port ")[1].split(",")[0])
    return process, port, elapsed_ms


def main():
    docket = sys.argv[1]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    rows = []
    for mode, args in (("in memory", ["--memory"]), ("on disk, new directory", None)):
        times = []
        for _ in range(10):
            with tempfile.TemporaryDirectory() as scratch:
                process, port, ms = start(docket, *(args or ["--dbpath", scratch + "/data"]))
                times.append(ms)
                if len(times) == 10:
                    time.sleep(0.5)
                    idle = resident_kib(process.pid)
                    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
                    time.sleep(0.5)
                    busy = resident_kib(process.pid)
                    for s in sockets:
                        s.close()
                process.terminate()
                process.wait()
        times.sort()
        rows.append((mode, times[len(times) // 2], times[0], idle, busy))
    print("| docket serve | exec to ready line, median of 10 (best) | resident idle | with 1,000 idle connections |")
    print("|---|---:|---:|---:|")
    for mode, median, best, idle, busy in rows:
        print("| %s | %.1f ms (%.1f ms) | %.1f MB | %.1f MB |" % (mode, median, best, idle / 1024, busy / 1024))


if __name__ == "__main__":
    main()
