# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared connection spec: defaults, environment fallbacks and the option translator."""
from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible import options
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.errors import describe_error
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.options import (
    CONNECTION_ARGUMENT_SPEC,
    ENV_VARS,
    client_from_options,
    client_kwargs,
    connection_argument_spec,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException


def unset(_name):
    return None


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_VARS.values():
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_option_has_an_env_fallback():
    assert set(ENV_VARS) == set(CONNECTION_ARGUMENT_SPEC)
    for name, spec in CONNECTION_ARGUMENT_SPEC.items():
        assert spec['fallback'][1] == [ENV_VARS[name]]
    assert CONNECTION_ARGUMENT_SPEC['password']['no_log'] is True


def test_unset_options_give_the_spec_defaults():
    kwargs = client_kwargs(unset)
    assert kwargs == {
        'host': ['127.0.0.1'], 'port': 2379, 'srv_domain': None, 'version_prefix': 'v2', 'protocol': 'http',
        'allow_reconnect': True, 'timeout': 5.0, 'ca_cert': None, 'cert': None, 'key': None,
        'validate_certs': True, 'username': None, 'password': None,
    }


def test_module_params_and_get_option_agree(clean_env):
    """The spec's defaults (what a module sees) and an empty get_option (a lookup with nothing
    set) build the same client arguments."""
    validated = ArgumentSpecValidator(connection_argument_spec()).validate({})
    assert validated.error_messages == []
    assert client_kwargs(validated.validated_parameters.get) == client_kwargs(unset)


def test_env_fallbacks_fill_the_spec(clean_env):
    clean_env.setenv('PYETCD_HOST', 'https://e1:2379,e2:4001')
    clean_env.setenv('PYETCD_TIMEOUT', '1.5')
    clean_env.setenv('PYETCD_VALIDATE_CERTS', 'false')
    clean_env.setenv('PYETCD_USERNAME', 'app')
    clean_env.setenv('PYETCD_PASSWORD', 'pw-from-env')
    validated = ArgumentSpecValidator(connection_argument_spec()).validate({'port': 2400})
    assert validated.error_messages == []
    kwargs = client_kwargs(validated.validated_parameters.get)
    assert kwargs['host'] == ['https://e1:2379', 'e2:4001']
    assert kwargs['timeout'] == 1.5 and kwargs['validate_certs'] is False
    assert kwargs['username'] == 'app' and kwargs['password'] == 'pw-from-env'
    assert kwargs['port'] == 2400
    # The password from the environment is still marked no_log for the output filter.
    assert 'pw-from-env' in validated._no_log_values  # pylint: disable=protected-access


def test_task_value_beats_env(clean_env):
    clean_env.setenv('PYETCD_PORT', '1111')
    validated = ArgumentSpecValidator(connection_argument_spec()).validate({'port': 2222})
    assert validated.validated_parameters['port'] == 2222


def test_extra_options_do_not_change_the_shared_spec():
    spec = connection_argument_spec(key={'type': 'str', 'no_log': False})
    spec['host']['default'] = ['elsewhere']
    assert 'key' not in CONNECTION_ARGUMENT_SPEC
    assert CONNECTION_ARGUMENT_SPEC['host']['default'] == ['127.0.0.1']


def test_host_items_pass_through_as_a_list_and_blank_items_drop():
    kwargs = client_kwargs({'host': ['a', ' ', 'b:1', 'https://c:2']}.get)
    assert kwargs['host'] == ['a', 'b:1', 'https://c:2']
    # One member is still a list: the client reads every item the same way.
    assert client_kwargs({'host': ['single:9']}.get)['host'] == ['single:9']
    assert client_kwargs({'host': 'single:9'}.get)['host'] == ['single:9']
    assert client_kwargs({}.get)['host'] == ['127.0.0.1']  # unset: the default member


@pytest.mark.parametrize('hosts', [[], [''], ['', '  '], ''])
def test_a_host_list_naming_no_member_is_refused_not_defaulted(hosts):
    # An empty inventory group must not silently become 127.0.0.1:2379.
    with pytest.raises(ClientException, match='host names no etcd member'):
        client_from_options({'host': hosts}.get)


def test_client_from_options_builds_the_endpoints():
    options = {'host': ['a', 'b:1', 'https://c:2'], 'port': 2400}
    with client_from_options(options.get) as client:
        assert client.endpoints == ['http://a:2400', 'http://b:1', 'https://c:2']


def test_client_from_options_reports_bad_arguments():
    with pytest.raises(ClientException) as info:
        client_from_options({'password': 'not-shown'}.get)
    message = describe_error(info.value, hide=['not-shown'])
    assert message.startswith('invalid argument: ') and 'username' in message
    assert 'not-shown' not in message


def test_missing_requests_gives_missing_required_lib(monkeypatch):
    monkeypatch.setattr(options, 'HAS_REQUESTS', False)
    message = options.missing_requirement()
    assert 'requests' in message
    with pytest.raises(RuntimeError) as info:
        client_from_options(unset)
    assert 'requests' in str(info.value)
