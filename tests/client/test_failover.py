# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Failover between real members: dead, frozen and leaderless, with no blind re-sends."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    EtcdConnectionFailed,
    EtcdOutcomeUnknown,
    EtcdRaftInternal,
)
from tests.harness.etcd_server import free_port


def test_skips_a_dead_member_and_stays_on_the_live_one(etcd35, key_prefix):
    dead = free_port()
    cli = Client(host=[('127.0.0.1', dead), (etcd35.host, etcd35.port)], timeout=2)
    assert cli.write(key_prefix + '/f', 'v').node.value == 'v'
    assert cli.current_endpoint == etcd35.url
    # The next request starts at the member that answered: no new attempt on the dead one.
    started = time.monotonic()
    for _attempt in range(20):
        cli.read(key_prefix + '/f')
    assert cli.current_endpoint == etcd35.url
    assert time.monotonic() - started < 20 * 2  # sanity bound only; speed is measured in bench/


def test_without_reconnect_the_first_member_is_the_only_one(etcd35):
    dead = free_port()
    cli = Client(host=[('127.0.0.1', dead), (etcd35.host, etcd35.port)], allow_reconnect=False, timeout=2)
    with pytest.raises(EtcdConnectionFailed) as err:
        cli.read('/x')
    assert err.value.attempts == [('http://127.0.0.1:%d' % dead, 'connection refused')]


def test_all_members_down_lists_each_answer():
    ports = [free_port(), free_port()]
    cli = Client(host=[('127.0.0.1', p) for p in ports], timeout=2)
    with pytest.raises(EtcdConnectionFailed) as err:
        cli.write('/k', 'v')
    text = str(err.value)
    assert text.startswith('no etcd member answered for /k: ')
    for port in ports:
        assert 'http://127.0.0.1:%d: connection refused' % port in text
    assert err.value.outcome_unknown is False  # nothing was sent


def test_name_that_does_not_resolve():
    cli = Client(host='no-such-host.invalid', timeout=2)
    with pytest.raises(EtcdConnectionFailed) as err:
        cli.read('/k')
    assert 'no-such-host.invalid:2379: host name does not resolve' in str(err.value)


def _stored(member, key):
    """The key as the member itself holds it (raw v2 GET, not through the client), or None."""
    try:
        with urllib.request.urlopen('%s/v2/keys%s?quorum=true' % (member.url, key), timeout=10) as response:
            return json.loads(response.read())['node']['value']
    except urllib.error.HTTPError as exc:
        assert exc.code == 404, exc
        return None


def test_frozen_member_read_moves_on_and_a_fresh_write_lands_on_a_live_member(etcd_cluster, key_prefix):
    frozen = etcd_cluster.followers()[0]
    others = [m for m in etcd_cluster.members if m is not frozen]
    hosts = [(frozen.host, frozen.port)] + [(m.host, m.port) for m in others]
    Client(host=hosts[1:]).write(key_prefix + '/r', 'before')
    frozen.freeze()
    try:
        reader = Client(host=hosts, timeout=1)
        assert reader.read(key_prefix + '/r').node.value == 'before'
        assert reader.current_endpoint == others[0].url

        # A fresh client (every Ansible task is one) asks the frozen member for /health first:
        # one timeout, then the write goes to a member that answered.
        writer = Client(host=hosts, timeout=1)
        result = writer.write(key_prefix + '/w', 'landed')
        assert result.endpoint != frozen.url
        assert _stored(others[0], key_prefix + '/w') == 'landed'
        assert writer.current_endpoint != frozen.url

        # The same through the pipelined path.
        bulk = Client(host=hosts, timeout=1)
        bulk.write_many({'%s/m/%d' % (key_prefix, n): str(n) for n in range(20)})
        assert all(_stored(others[1], '%s/m/%d' % (key_prefix, n)) == str(n) for n in range(20))
    finally:
        frozen.thaw()


def test_write_to_a_confirmed_member_that_then_freezes_is_unknown(etcd_cluster, key_prefix):
    frozen = etcd_cluster.followers()[0]
    others = [m for m in etcd_cluster.members if m is not frozen]
    hosts = [(frozen.host, frozen.port)] + [(m.host, m.port) for m in others]
    writer = Client(host=hosts, timeout=1)
    writer.read('/')  # the member answers: confirmed
    frozen.freeze()
    try:
        with pytest.raises(EtcdOutcomeUnknown) as err:
            writer.write(key_prefix + '/w', 'maybe')
        assert 'may or may not have been applied' in str(err.value)
        assert err.value.attempts == [(frozen.url, 'no answer within 1s')]
        # Not re-sent to another member: the live members do not have the key.
        assert _stored(others[0], key_prefix + '/w') is None
        # The next write starts past the frozen member and lands.
        assert writer.write(key_prefix + '/w2', 'sure').node.value == 'sure'
        assert _stored(others[0], key_prefix + '/w2') == 'sure'
    finally:
        frozen.thaw()


def test_lost_quorum_fresh_write_is_not_sent_confirmed_write_is_ambiguous(etcd_cluster, key_prefix):
    survivor = etcd_cluster.members[0]
    confirmed = Client(host=(survivor.host, survivor.port), timeout=15, leader_retries=1, retry_delay=0.1)
    confirmed.read('/')
    for member in etcd_cluster.members[1:]:
        member.kill()
    # A fresh client's health check says the member cannot serve: the write is never sent.
    fresh = Client(host=(survivor.host, survivor.port), timeout=15, leader_retries=1, retry_delay=0.1)
    with pytest.raises(EtcdConnectionFailed) as err:
        fresh.write(key_prefix + '/q', 'v')
    assert not err.value.outcome_unknown
    assert 'reports itself unhealthy' in str(err.value) and 'no etcd member could take the request' in str(err.value)
    # A member that answered before gets the write; the raft error after it was proposed is ambiguous.
    with pytest.raises(EtcdRaftInternal) as err:
        confirmed.write(key_prefix + '/q', 'v')
    assert err.value.error_code == 300
    assert err.value.outcome_unknown is True
    with pytest.raises(EtcdRaftInternal) as err:
        confirmed.read(key_prefix + '/q', quorum=True)
    assert err.value.outcome_unknown is False


def test_one_client_shared_by_threads(client, key_prefix):
    errors = []
    written = []

    def work(number):
        try:
            for step in range(40):
                key = '%s/t%d/%d' % (key_prefix, number, step)
                client.write(key, str(step))
                written.append(key)
                assert client.read(key).node.value == str(step)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    tree = client.read(key_prefix, recursive=True).node
    assert sorted(leaf.key for leaf in tree.leaves()) == sorted(written)
    assert len(written) == 320
