# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning of etcd_dir from one recursive read (pure: no server involved).

Trees are built with ResponseNode.from_dict from the JSON etcd returns for a recursive GET, so
the planner sees exactly what the client hands it.
"""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import (
    DELETE, MKDIR, RMDIR, RMTREE, SET, SET_DIR_TTL, DirPlanError, Operation, check_ttl, content_value,
    flatten_content, flatten_node, normalize_path, plan_absent, plan_present,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.result import ResponseNode


def key(path, value, index=5, ttl=None):
    data = {'key': path, 'value': value, 'modifiedIndex': index, 'createdIndex': index}
    if ttl is not None:
        data['ttl'] = ttl
    return data


def dirn(path, *children, ttl=None):
    data = {'key': path, 'dir': True, 'modifiedIndex': 3, 'createdIndex': 3}
    if children:
        data['nodes'] = list(children)
    if ttl is not None:
        data['ttl'] = ttl
    return data


def node(data):
    return ResponseNode.from_dict(data)


APP = node(dirn('/app',
                key('/app/a', '1'),
                key('/app/b', 'old'),
                dirn('/app/sub', key('/app/sub/x', 'x')),
                dirn('/app/empty')))


# ------------------------------------------------------------------ values and names

@pytest.mark.parametrize('value, stored', [
    ('text', 'text'), ('', ''), (1, '1'), (-7, '-7'), (1.5, '1.5'), (True, 'true'), (False, 'false'),
])
def test_scalars_become_strings(value, stored):
    assert content_value(value, '/p/k') == stored


@pytest.mark.parametrize('value, words', [
    (None, 'is null'), ([1, 2], 'is a list'), ((1,), 'is a list'), (object(), 'type object'),
])
def test_unconvertible_values_are_refused_naming_the_key_path(value, words):
    with pytest.raises(DirPlanError) as err:
        flatten_content({'cfg': {'port': value}}, '/app')
    assert '/app/cfg/port' in str(err.value)
    assert words in str(err.value)


@pytest.mark.parametrize('name', ['', '.', '..', 'a/b'])
def test_names_must_be_single_segments(name):
    with pytest.raises(DirPlanError, match='single path segment'):
        flatten_content({name: 'v'}, '/app')


def test_hidden_names_are_refused_because_listings_never_show_them():
    with pytest.raises(DirPlanError, match='hides such nodes'):
        flatten_content({'sub': {'_secret': 'v'}}, '/app')


def test_flatten_content_lists_every_directory_and_key():
    assert flatten_content({'a': '1', 'd': {'e': {}, 'f': 2}}, '/p') == {
        'a': '1', 'd': None, 'd/e': None, 'd/f': '2'}


def test_flatten_node_is_relative_to_the_path():
    assert flatten_node(APP, '/app') == {'a': '1', 'b': 'old', 'sub': None, 'sub/x': 'x', 'empty': None}


def test_flatten_node_of_the_root_directory():
    root = node({'dir': True, 'nodes': [key('/k', 'v'), dirn('/d', key('/d/e', 'w'))]})
    assert flatten_node(root, '/') == {'k': 'v', 'd': None, 'd/e': 'w'}


@pytest.mark.parametrize('raw, clean', [('app', '/app'), ('/app/', '/app'), ('//a//b/', '/a/b'), ('/', '/')])
def test_normalize_path(raw, clean):
    assert normalize_path(raw) == clean


@pytest.mark.parametrize('raw', ['', '/a/../b', './a'])
def test_normalize_path_refuses(raw):
    with pytest.raises(DirPlanError):
        normalize_path(raw)


# ------------------------------------------------------------------ present

def test_missing_path_with_content_is_written_with_plain_sets_only():
    plan = plan_present('/app', None, {'a': '1', 'sub': {'x': 'x'}})
    # No mkdir: each set creates its parent directories.
    assert plan.phases == [[Operation(SET, '/app/a', '1', create=True), Operation(SET, '/app/sub/x', 'x', create=True)]]
    assert plan.created == ['/app', '/app/a', '/app/sub', '/app/sub/x']
    assert plan.updated == [] and plan.deleted == []
    assert plan.after == {'a': '1', 'sub': {'x': 'x'}}
    assert plan.changed


def test_missing_path_without_content_is_one_mkdir():
    plan = plan_present('/app', None)
    assert plan.operations == [Operation(MKDIR, '/app')]
    assert plan.created == ['/app']


def test_missing_path_with_ttl_gets_a_mkdir_before_the_sets():
    plan = plan_present('/app', None, {'a': '1'}, ttl=60)
    assert plan.phases == [[Operation(MKDIR, '/app', ttl=60)], [Operation(SET, '/app/a', '1', create=True)]]
    assert plan.diff()['after_header'] == '/app (ttl 60s)'


def test_empty_dicts_are_made_with_mkdir_but_parents_of_writes_are_not():
    plan = plan_present('/app', None, {'d': {'e': {}, 'f': 'v'}, 'g': {}})
    assert plan.phases == [[Operation(MKDIR, '/app/d/e'), Operation(SET, '/app/d/f', 'v', create=True), Operation(MKDIR, '/app/g')]]


def test_matching_content_plans_nothing():
    plan = plan_present('/app', APP, {'a': 1, 'b': 'old', 'sub': {'x': 'x'}, 'empty': {}})
    assert not plan.changed
    assert plan.created == plan.updated == plan.deleted == []
    assert plan.before == plan.after


def test_changed_and_new_keys_without_purge_leave_extras_alone():
    plan = plan_present('/app', APP, {'b': 'new', 'sub': {'y': 'y'}})
    assert plan.phases == [[Operation(SET, '/app/b', 'new', prev_index=5), Operation(SET, '/app/sub/y', 'y', create=True)]]
    assert plan.updated == ['/app/b']
    assert plan.created == ['/app/sub/y']
    assert plan.deleted == []
    assert plan.after['a'] == '1' and plan.after['sub'] == {'x': 'x', 'y': 'y'}


def test_purge_deletes_each_key_read_then_each_directory_without_recursive():
    plan = plan_present('/app', APP, {'a': '1'}, purge=True)
    # The keys on the index read first, then the directories, which etcd refuses unless empty.
    assert plan.phases == [[Operation(DELETE, '/app/b', prev_index=5), Operation(DELETE, '/app/sub/x', prev_index=5)],
                           [Operation(RMDIR, '/app/empty'), Operation(RMDIR, '/app/sub')]]
    assert plan.deleted == ['/app/b', '/app/empty', '/app/sub', '/app/sub/x']
    assert plan.after == {'a': '1'}
    assert plan.prune and plan.replaced == []


def test_purge_deletes_directories_deepest_first_one_depth_per_phase():
    current = node(dirn('/app', dirn('/app/d', dirn('/app/d/e', dirn('/app/d/e/f', key('/app/d/e/f/k', 'v')))),
                        dirn('/app/g')))
    plan = plan_present('/app', current, {}, purge=True)
    assert plan.phases == [[Operation(DELETE, '/app/d/e/f/k', prev_index=5)],
                           [Operation(RMDIR, '/app/d/e/f')], [Operation(RMDIR, '/app/d/e')],
                           [Operation(RMDIR, '/app/d'), Operation(RMDIR, '/app/g')]]


def test_purge_with_empty_content_empties_the_directory():
    plan = plan_present('/app', APP, {}, purge=True)
    assert {op.key for op in plan.operations} == {'/app/a', '/app/b', '/app/sub', '/app/sub/x', '/app/empty'}
    assert all(op.action in (DELETE, RMDIR) for op in plan.operations)
    assert plan.after == {}


def test_a_kept_directory_leaves_deleted_and_returns_to_after():
    plan = plan_present('/app', APP, {'a': '1'}, purge=True)
    plan.keep('/app/sub')
    assert plan.kept == ['/app/sub']
    assert plan.deleted == ['/app/b', '/app/empty', '/app/sub/x']
    assert plan.after == {'a': '1', 'sub': {}}


def test_purge_without_content_is_refused():
    with pytest.raises(DirPlanError, match='purge on /app needs content'):
        plan_present('/app', APP, None, purge=True)


def test_key_where_a_directory_is_wanted_fails_without_purge():
    with pytest.raises(DirPlanError) as err:
        plan_present('/app', APP, {'a': {'inner': 'v'}, 'sub': 'flat'})
    text = str(err.value)
    assert '/app/a (key, wanted directory)' in text
    assert '/app/sub (directory, wanted key)' in text
    assert 'purge: true' in text


def test_kind_conflicts_are_replaced_with_purge_deletes_first():
    plan = plan_present('/app', APP, {'a': {'inner': 'v'}, 'b': 'old', 'sub': 'flat', 'empty': {}}, purge=True)
    assert plan.phases == [
        [Operation(DELETE, '/app/a', prev_index=5), Operation(DELETE, '/app/sub/x', prev_index=5)],
        [Operation(RMDIR, '/app/sub')],
        [Operation(SET, '/app/a/inner', 'v', create=True), Operation(SET, '/app/sub', 'flat', create=True)],
    ]
    assert plan.deleted == ['/app/a', '/app/sub', '/app/sub/x']
    assert plan.replaced == ['/app/sub']
    # Replaced nodes reappear with the other kind: they count as created, not updated.
    assert plan.created == ['/app/a', '/app/a/inner', '/app/sub']
    assert plan.updated == []


def test_conflict_message_is_bounded():
    current = node(dirn('/app', *[key('/app/k%02d' % i, 'v') for i in range(8)]))
    with pytest.raises(DirPlanError, match='and 3 more'):
        plan_present('/app', current, {'k%02d' % i: {} for i in range(8)})


def test_path_that_is_a_key():
    current = node(key('/app', 'flat'))
    with pytest.raises(DirPlanError, match='/app is a key, not a directory'):
        plan_present('/app', current, {'a': '1'})
    plan = plan_present('/app', current, {'a': '1'}, purge=True)
    assert plan.phases == [[Operation(DELETE, '/app', prev_index=5)], [Operation(SET, '/app/a', '1', create=True)]]
    assert plan.diff()['before_header'] == '/app (a key)'


def test_ttl_rule():
    shorter = node(dirn('/app', key('/app/a', '1'), ttl=30))
    assert not plan_present('/app', shorter, {'a': '1'}, ttl=60).changed
    longer = node(dirn('/app', key('/app/a', '1'), ttl=300))
    assert plan_present('/app', longer, {'a': '1'}, ttl=60).operations == [Operation(SET_DIR_TTL, '/app', ttl=60)]
    permanent = node(dirn('/app', key('/app/a', '1')))
    assert plan_present('/app', permanent, {'a': '1'}, ttl=60).operations == [Operation(SET_DIR_TTL, '/app', ttl=60)]
    # Without ttl an existing TTL is left alone (etcd 3.5 could not remove it anyway).
    assert not plan_present('/app', shorter, {'a': '1'}).changed


def test_key_ttls_below_the_path_are_not_managed():
    current = node(dirn('/app', key('/app/a', '1', ttl=10)))
    assert not plan_present('/app', current, {'a': '1'}).changed


def test_diff_hides_values_on_request_but_keeps_the_shape():
    plan = plan_present('/app', APP, {'b': 'new'})
    diff = plan.diff(hide_values=True)
    assert diff['before']['b'] == '<hidden>' and diff['after']['b'] == '<hidden>'
    assert diff['after']['sub'] == {'x': '<hidden>'} and diff['after']['empty'] == {}
    assert plan.diff()['after']['b'] == 'new'
    assert diff['before_header'] == '/app'


def test_plan_of_a_thousand_keys_is_one_phase_of_sets():
    content = {'d%02d' % d: {'k%03d' % k: 'v%d' % k for k in range(100)} for d in range(10)}
    plan = plan_present('/bulk', None, content)
    assert len(plan.phases) == 1 and len(plan.operations) == 1000
    assert all(op.action == SET for op in plan.operations)
    current = node(dirn('/bulk', *[dirn('/bulk/%s' % d, *[key('/bulk/%s/%s' % (d, k), v) for k, v in keys.items()])
                                   for d, keys in content.items()]))
    assert not plan_present('/bulk', current, content, purge=True).changed


# ------------------------------------------------------------------ absent

def test_absent_missing_is_nothing():
    plan = plan_absent('/app', None)
    assert not plan.changed and plan.deleted == []


def test_absent_empty_directory_is_one_rmdir_that_etcd_refuses_when_not_empty():
    plan = plan_absent('/app', node(dirn('/app')))
    assert plan.operations == [Operation(RMDIR, '/app')]
    assert plan.deleted == ['/app']
    assert not plan.prune


def test_absent_non_empty_needs_recursive():
    with pytest.raises(DirPlanError, match=r'/app is not empty \(5 nodes below it\): set recursive: true'):
        plan_absent('/app', APP)
    plan = plan_absent('/app', APP, recursive=True)
    assert plan.operations == [Operation(RMTREE, '/app')]
    assert '/app/sub/x' in plan.deleted and plan.after == {}


def test_absent_refuses_a_key_and_the_root():
    with pytest.raises(DirPlanError, match='is a key, not a directory'):
        plan_absent('/app', node(key('/app', 'v')))
    with pytest.raises(DirPlanError, match='root directory'):
        plan_absent('/', node({'dir': True}), recursive=True)


@pytest.mark.parametrize('ttl', [0, -1, -600])
def test_a_ttl_below_one_is_refused_naming_the_option(ttl):
    with pytest.raises(DirPlanError, match=r'^ttl must be at least 1 second, got %d \(directory /app\)' % ttl):
        plan_present('/app', None, {'a': '1'}, ttl=ttl)
    with pytest.raises(DirPlanError, match='^ttl must be at least 1 second'):
        check_ttl(ttl, '/app')


def test_ttl_must_be_a_whole_number():
    with pytest.raises(DirPlanError, match='^ttl must be a whole number of seconds'):
        check_ttl(True, '/app')
    assert check_ttl(1, '/app') == 1 and check_ttl(None, '/app') is None
