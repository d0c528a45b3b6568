"""Endpoints that are not a working etcd v2 API: each gives one line naming the endpoint and
what it answered, quickly, with nothing written and no traceback - through the client and
through the modules and the lookup in a playbook.

The "web server that is not etcd" is a small Python HTTP server answering HTML (see
``html_server`` in conftest.py): a stand-in, because no real etcd can play that part. All
other endpoints are real: etcd 3.5 started without ``--enable-v2``, a closed port, a name
in the reserved ``.invalid`` domain, and https to a plain-http etcd.
"""
from __future__ import annotations

import time
from typing import Dict, Iterator

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    EtcdConnectionFailed,
    EtcdInvalidResponse,
    EtcdTLSError,
    EtcdV2NotEnabled,
)
from tests.harness.etcd_server import EtcdServer, free_port
from tests.reliability.conftest import failed_messages, run_playbook


@pytest.fixture(scope='module')
def no_v2_server() -> Iterator[EtcdServer]:
    server = EtcdServer('3.5', enable_v2=False)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def endpoints(html_server, no_v2_server, etcd35) -> Dict[str, tuple]:
    """name -> (base URL, exception class, words the message must contain)."""
    closed = 'http://127.0.0.1:%d' % free_port()
    return {
        'html-server': (html_server, EtcdInvalidResponse, 'not JSON'),
        'etcd-without-v2': (no_v2_server.url, EtcdV2NotEnabled, 'v2 API not enabled'),
        'closed-port': (closed, EtcdConnectionFailed, 'connection refused'),
        'unresolvable-name': ('http://no-such-member.invalid:2379', EtcdConnectionFailed, 'does not resolve'),
        'https-to-http-port': ('https://%s:%d' % (etcd35.host, etcd35.port), EtcdTLSError, 'plain http'),
    }


@pytest.mark.parametrize('name', ['html-server', 'etcd-without-v2', 'closed-port', 'unresolvable-name',
                                  'https-to-http-port'])
def test_wrong_endpoints_are_named(endpoints, figures, name):
    url, cls, words = endpoints[name]
    client = Client(host=url, timeout=2)
    for call in (lambda: client.read('/ep/k'), lambda: client.write('/ep/k', 'v'), lambda: client.mkdir('/ep/d')):
        start = time.monotonic()
        with pytest.raises(cls) as err:
            call()
        message = str(err.value)
        assert url in message and words in message and '\n' not in message, message
        assert time.monotonic() - start < 2 + 1.5
        if name != 'html-server':
            # Nothing reached an etcd that could have applied it.
            assert not err.value.outcome_unknown
    client.close()
    figures.add('bad input: inputs tried')


def test_a_dead_endpoint_before_a_live_one_is_skipped(endpoints, etcd35, figures):
    """A closed port and an unresolvable name first in the list: the live member answers."""
    client = Client(host=[endpoints['closed-port'][0], endpoints['unresolvable-name'][0], etcd35.url], timeout=2)
    assert client.write('/ep/live', 'ok').node.value == 'ok'
    assert client.current_endpoint == etcd35.url
    figures.add('bad input: inputs tried')


@pytest.mark.slow
def test_wrong_endpoints_in_a_playbook(endpoints, playbook_dir, figures):
    names = sorted(endpoints)
    tasks = []
    for name in names:
        url = endpoints[name][0]
        tasks.append('''
    - name: etcd_key against {name}
      pyetcd.etcd.etcd_key:
        host: "{url}"
        timeout: 2
        key: /ep/k
        value: v
      ignore_errors: true
    - name: lookup against {name}
      ansible.builtin.debug:
        msg: "{{{{ lookup('pyetcd.etcd.etcd', '/ep/k', host='{url}', timeout=2) }}}}"
      ignore_errors: true
'''.format(name=name, url=url))
    play = '- hosts: localhost\n  gather_facts: false\n  tasks:' + ''.join(tasks)
    proc = run_playbook(play, playbook_dir)
    output = proc.stdout + proc.stderr
    assert 'Traceback' not in output
    messages = failed_messages(proc.stdout)
    assert len(messages) == 2 * len(names), messages
    for index, name in enumerate(names):
        url, _cls, words = endpoints[name]
        for message in messages[2 * index:2 * index + 2]:
            assert url in message and words in message and '\n' not in message, message
    figures.add('bad input: inputs tried', 2 * len(names))
