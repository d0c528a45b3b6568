"""TLS against a real etcd 3.5 started with a test CA, a server certificate and
``--client-cert-auth`` (certificates made at test time by tests/harness/tls.py).

Client level: https with ``ca_cert`` and a client certificate works; a wrong CA, the system
CA store, a missing client certificate and a client certificate from another CA each fail
with one line naming the endpoint and the TLS reason; ``validate_certs=False`` works;
https to an http port and http to an https port are named as such.
Playbook level: the same through etcd_key and the lookup.
"""
from __future__ import annotations

import json
import time
import urllib.request
import uuid
import warnings

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    ClientException,
    EtcdBulkWriteFailed,
    EtcdConnectionFailed,
    EtcdTLSError,
)
from tests.reliability.conftest import failed_messages, run_playbook


def _client(server, pki, **overrides):
    options = dict(host=server.url, ca_cert=pki['ca'], cert=pki['client_cert'], key=pki['client_key'], timeout=5)
    options.update(overrides)
    return Client(**options)


def test_https_with_ca_and_client_certificate_works(tls_server, pki, figures):
    key = '/tls-%s' % uuid.uuid4().hex[:8]
    with _client(tls_server, pki) as client:
        assert client.write(key, 'secure').node.value == 'secure'
        assert client.read(key).node.value == 'secure'
    # The same member by name: the certificate is valid for localhost as well.
    with _client(tls_server, pki, host='https://localhost:%d' % tls_server.port) as client:
        assert client.read(key).node.value == 'secure'
    figures.add('tls/auth: cases checked', 2)


@pytest.mark.parametrize('case, overrides, words', [
    ('wrong-ca', {'ca_cert': 'other_ca'}, 'certificate verify failed'),
    ('system-ca-store', {'ca_cert': None}, 'certificate verify failed'),
    ('no-client-certificate', {'cert': None, 'key': None}, 'refused the client certificate'),
    ('client-certificate-of-another-ca', {'cert': 'other_client_cert', 'key': 'other_client_key'},
     'refused the client certificate'),
])
def test_tls_failures_are_named(tls_server, pki, figures, case, overrides, words):
    resolved = {name: (pki[value] if value in pki else value) for name, value in overrides.items()}
    client = _client(tls_server, pki, **resolved)
    for call in (lambda: client.read('/tls-any'), lambda: client.write('/tls-any', 'x')):
        start = time.monotonic()
        with pytest.raises(EtcdTLSError) as err:
            call()
        message = str(err.value)
        assert words in message and tls_server.url in message and '\n' not in message, message
        # Nothing was sent, so a write is not "outcome unknown".
        assert not err.value.outcome_unknown
        assert time.monotonic() - start < 5
    # The bulk path opens its own connections: the same error, for its first key, nothing sent.
    with pytest.raises(EtcdBulkWriteFailed) as err:
        client.write_many([('/tls-any', 'x'), ('/tls-other', 'y')])
    assert [key for key, _exc in err.value.failures] == ['/tls-any'] and err.value.not_sent == ['/tls-other']
    assert isinstance(err.value.failures[0][1], EtcdTLSError) and not err.value.outcome_unknown
    assert words in str(err.value) and '\n' not in str(err.value)
    client.close()
    figures.add('tls/auth: cases checked')


def test_write_many_pipelines_over_tls(tls_server, pki, figures):
    prefix = '/tls-bulk-%s' % uuid.uuid4().hex[:8]
    items = [('%s/k%03d' % (prefix, number), 'secret %d' % number) for number in range(120)]
    with _client(tls_server, pki) as client:
        results = client.write_many(items, concurrency=4, pipeline=16)
        assert [result.node.value for result in results] == [value for _key, value in items]
        stored = {node.key: node.value for node in client.read(prefix, recursive=True).node.leaves()}
    assert stored == dict(items)
    figures.add('tls/auth: cases checked')


def test_validate_certs_false_works_and_urllib3_says_it_is_insecure(tls_server, pki, figures):
    client = _client(tls_server, pki, ca_cert=None, validate_certs=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert client.write('/tls-insecure', 'ok').node.value == 'ok'
    assert any('Unverified HTTPS request' in str(w.message) for w in caught)
    client.close()
    figures.add('tls/auth: cases checked')


def test_https_to_an_http_port_is_named(etcd35, figures):
    client = Client(host='https://%s:%d' % (etcd35.host, etcd35.port), timeout=5)
    with pytest.raises(EtcdTLSError) as err:
        client.read('/k')
    message = str(err.value)
    assert 'https://%s:%d' % (etcd35.host, etcd35.port) in message and 'TLS' in message and '\n' not in message
    figures.add('tls/auth: cases checked')


def test_https_to_an_http_port_is_never_outcome_unknown(etcd35, figures):
    """etcd closes a plain-http port on a TLS hello; now and then the client sees that as a
    bare "connection reset" from inside the handshake instead of an SSL error (about 1 in 25
    connections here). Either way nothing was sent: never "outcome unknown", always TLS."""
    url = 'https://%s:%d' % (etcd35.host, etcd35.port)
    for _attempt in range(150):
        client = Client(host=url, timeout=5)   # a new client: a new connection and handshake
        with pytest.raises(EtcdTLSError) as err:
            client.write('/tls-never-sent', 'x')
        assert not err.value.outcome_unknown and 'plain http' in str(err.value), str(err.value)
        client.close()
    for _attempt in range(50):  # the bulk path's own connections
        with pytest.raises(EtcdBulkWriteFailed) as err:
            Client(host=url, timeout=5).write_many([('/tls-never-sent', 'x')])
        failure = err.value.failures[0][1]
        assert isinstance(failure, EtcdTLSError) and not err.value.outcome_unknown and 'plain http' in str(failure), str(failure)
    figures.add('tls/auth: cases checked')
    figures.add('bad input: inputs tried', 200)


def test_http_to_an_https_port_fails_without_a_false_answer(tls_server, pki, figures):
    """etcd closes the connection; the client must report a failure, never a result."""
    client = Client(host='http://127.0.0.1:%d' % tls_server.port, timeout=5)
    with pytest.raises(EtcdConnectionFailed) as err:
        client.read('/k')
    assert 'http://127.0.0.1:%d' % tls_server.port in str(err.value)
    figures.add('tls/auth: cases checked')


def test_http_to_an_https_port_names_it_and_a_write_moves_on(tls_server, etcd35, key_prefix, figures):
    """A TLS listener closes a plaintext connection without a word and never applies the
    request: the write is not "outcome unknown", the next member takes it, and the message
    asks whether the port speaks https."""
    tls_port = 'http://127.0.0.1:%d' % tls_server.port
    alone = Client(host=tls_port, timeout=5)
    with pytest.raises(EtcdConnectionFailed) as err:
        alone.write(key_prefix + '/k', 'v')
    assert not err.value.outcome_unknown and '(does this port speak https?)' in str(err.value), str(err.value)
    both = Client(host=[tls_port, etcd35.url], timeout=5)
    assert both.write(key_prefix + '/k', 'v').endpoint == etcd35.url
    assert json.loads(urllib.request.urlopen(etcd35.url + '/v2/keys' + key_prefix + '/k', timeout=5).read())['node']['value'] == 'v'
    with pytest.raises(EtcdBulkWriteFailed) as err:
        Client(host=tls_port, timeout=5).write_many([(key_prefix + '/m', 'v')])
    assert not err.value.outcome_unknown and 'does this port speak https?' in str(err.value)
    figures.add('tls/auth: cases checked')


def test_missing_certificate_file_is_a_clear_error(tls_server, pki, tmp_path, figures):
    missing = str(tmp_path / 'no-such-ca.pem')
    for option in ('ca_cert', 'cert', 'key'):
        with pytest.raises(ClientException) as err:
            _client(tls_server, pki, **{option: missing})
        assert str(err.value) == '%s file %s does not exist' % (option, missing)
    figures.add('tls/auth: cases checked')


# -- through ansible-playbook --------------------------------------------------------------------

def _tls_play(server, key: str, options: dict) -> str:
    opts = json.dumps(dict({'host': server.url, 'timeout': 5}, **options))
    return '''
- hosts: localhost
  gather_facts: false
  vars:
    conn: %s
  tasks:
    - name: write over https
      pyetcd.etcd.etcd_key:
        key: %s
        value: over-tls
      module_defaults: {}
      args: "{{ conn }}"
    - name: read it back through the lookup
      ansible.builtin.assert:
        that:
          - lookup('pyetcd.etcd.etcd', '%s', **conn) == 'over-tls'
''' % (opts, key, key)


@pytest.mark.slow
def test_playbook_over_tls(tls_server, pki, playbook_dir, figures):
    key = '/tls-play-%s' % uuid.uuid4().hex[:8]
    good = {'ca_cert': pki['ca'], 'client_cert': pki['client_cert'], 'client_key': pki['client_key']}
    proc = run_playbook(_tls_play(tls_server, key, good), playbook_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    wrong = dict(good, ca_cert=pki['other_ca'])
    proc = run_playbook(_tls_play(tls_server, key, wrong), playbook_dir)
    assert proc.returncode == 2
    messages = failed_messages(proc.stdout)
    assert len(messages) == 1 and 'certificate verify failed' in messages[0] and tls_server.url in messages[0]
    assert 'Traceback' not in proc.stdout + proc.stderr
    figures.add('tls/auth: playbook runs checked', 2)


@pytest.fixture(scope='module')
def insecure_run(tls_server, pki, tmp_path_factory):
    """One playbook run with validate_certs=false, shared by the two tests below."""
    key = '/tls-play-%s' % uuid.uuid4().hex[:8]
    insecure = {'validate_certs': False, 'client_cert': pki['client_cert'], 'client_key': pki['client_key']}
    return run_playbook(_tls_play(tls_server, key, insecure), str(tmp_path_factory.mktemp('insecure-play')))


@pytest.mark.slow
def test_playbook_with_validate_certs_false_works(insecure_run, figures):
    assert insecure_run.returncode == 0, insecure_run.stdout + insecure_run.stderr
    figures.add('tls/auth: playbook runs checked')


@pytest.mark.slow
def test_playbook_with_validate_certs_false_warns(insecure_run):
    output = insecure_run.stdout + insecure_run.stderr
    assert insecure_run.returncode == 0
    flat = ' '.join(output.split())
    # Once from the module, once from the lookup, both with the same wording.
    assert flat.count('validate_certs=false: the TLS certificates of the etcd members are not verified, which is insecure') >= 2
    assert 'pyetcd.etcd.etcd lookup: validate_certs=false' in flat
    # Said once through Ansible, not again by urllib3 on stderr for every request.
    assert 'InsecureRequestWarning' not in output and 'Unverified HTTPS request' not in output


def test_v3_client_over_https_with_a_client_certificate(tls_server, pki, figures):
    from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client  # pylint: disable=import-outside-toplevel
    options = dict(host=tls_server.url, ca_cert=pki['ca'], cert=pki['client_cert'], key=pki['client_key'], timeout=5)
    key = 'v3-tls-%s/' % uuid.uuid4().hex[:8]
    with Etcd3Client(**options) as cli:
        cli.put(key + 'a', 'over tls')
        cli.put_many({'%sm%03d' % (key, n): str(n) for n in range(200)}, concurrency=2)
        assert cli.get(key + 'a').value == 'over tls' and cli.count_prefix(key + 'm') == 200
    with pytest.raises(EtcdTLSError) as err:
        Etcd3Client(**{**options, 'ca_cert': pki['other_ca']}).put(key + 'b', 'v')
    assert 'certificate verify failed' in str(err.value) and not err.value.outcome_unknown
    figures.add('tls/auth: cases checked', 2)
