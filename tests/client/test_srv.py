"""DNS SRV discovery, with a FAKE DNS server on loopback pointing at a real etcd.

No real DNS zone is available here, so a minimal UDP DNS responder (built with dnspython)
answers the SRV questions; the etcd it points at is real.
"""
from __future__ import annotations

import random
import socket
import sys
import threading

import pytest

import dns.message
import dns.resolver
import dns.rrset

from ansible_collections.pyetcd.etcd.plugins.module_utils.discovery import order_records
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client, ClientException


class FakeDns:
    """Answers SRV questions from ``records``: {name: [(priority, weight, port, target)]}."""

    def __init__(self, records):
        self.records = records
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.port = self.sock.getsockname()[1]
        self.questions = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text()
            self.questions.append(name)
            reply = dns.message.make_response(query)
            entries = self.records.get(name)
            if entries is None:
                reply.set_rcode(3)  # NXDOMAIN
            else:
                texts = ['%d %d %d %s' % entry for entry in entries]
                reply.answer.append(dns.rrset.from_text_list(question.name, 60, 'IN', 'SRV', texts))
            self.sock.sendto(reply.to_wire(), peer)

    def close(self):
        self.sock.close()


@pytest.fixture
def fake_dns(monkeypatch):
    servers = []

    def make(records):
        server = FakeDns(records)
        servers.append(server)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ['127.0.0.1']
        resolver.port = server.port
        resolver.lifetime = 2
        monkeypatch.setattr(dns.resolver, 'default_resolver', resolver)
        return server
    yield make
    for server in servers:
        server.close()


def test_srv_finds_the_real_member(fake_dns, etcd35, key_prefix):
    server = fake_dns({'_etcd-client._tcp.example.test.': [(10, 10, etcd35.port, '127.0.0.1.')]})
    cli = Client(srv_domain='example.test')
    assert cli.endpoints == [etcd35.url]
    cli.write(key_prefix + '/srv', 'found')
    assert cli.read(key_prefix + '/srv').node.value == 'found'
    assert server.questions[:2] == ['_etcd-client-ssl._tcp.example.test.', '_etcd-client._tcp.example.test.']


def test_ssl_record_means_https(fake_dns):
    fake_dns({'_etcd-client-ssl._tcp.example.test.': [(0, 0, 2379, 'etcd1.example.test.')],
              '_etcd-client._tcp.example.test.': [(0, 0, 2379, 'plain.example.test.')]})
    assert Client(srv_domain='example.test').endpoints == ['https://etcd1.example.test:2379']


def test_priority_then_weight(fake_dns):
    fake_dns({'_etcd-client._tcp.example.test.': [(20, 0, 1, 'late.'), (10, 5, 2, 'a.'), (10, 5, 3, 'b.')]})
    endpoints = Client(srv_domain='example.test').endpoints
    assert endpoints[-1] == 'http://late:1'
    assert sorted(endpoints[:2]) == ['http://a:2', 'http://b:3']


def test_weighted_order_follows_weights():
    rng = random.Random(7)
    firsts = [order_records([(0, 90, 1, 'heavy'), (0, 10, 2, 'light')], rng)[0][3] for _draw in range(2000)]
    assert 0.85 < firsts.count('heavy') / 2000 < 0.95


def test_no_records_is_an_error_not_localhost(fake_dns):
    fake_dns({})
    with pytest.raises(ClientException) as err:
        Client(srv_domain='nothing.test')
    assert str(err.value) == ('no etcd SRV records for nothing.test (asked _etcd-client-ssl._tcp.nothing.test '
                              'and _etcd-client._tcp.nothing.test)')


def test_without_dnspython_the_error_says_what_to_install(monkeypatch):
    for name in [n for n in sys.modules if n == 'dns' or n.startswith('dns.')]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, 'dns', None)
    with pytest.raises(ClientException) as err:
        Client(srv_domain='example.test')
    assert 'pip install dnspython' in str(err.value)
