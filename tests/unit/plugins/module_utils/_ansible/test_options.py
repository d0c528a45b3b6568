"""The shared connection spec: defaults, environment fallbacks, option adapter and error wording."""
from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.pyetcd.etcd.plugins.module_utils import connection
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.failures import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    REFUSED,
    Attempt,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.connection import (
    CONNECTION_ARGUMENT_SPEC,
    ENV_VARS,
    client_from_options,
    client_kwargs,
    connection_argument_spec,
    describe_error,
    error_category,
    redact,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdConnectionFailed,
    EtcdKeyNotFound,
    EtcdNotFile,
    EtcdOutcomeUnknown,
    EtcdTestFailed,
    EtcdTLSError,
    EtcdUnauthorized,
    EtcdV2NotEnabled,
)


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
        'host': '127.0.0.1', 'port': 2379, 'srv_domain': None, 'version_prefix': 'v2', 'protocol': 'http',
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


def test_host_items_pass_through_and_blank_items_drop():
    kwargs = client_kwargs({'host': ['a', ' ', 'b:1', 'https://c:2']}.get)
    assert kwargs['host'] == ['a', 'b:1', 'https://c:2']
    assert client_kwargs({'host': 'single:9'}.get)['host'] == 'single:9'
    assert client_kwargs({}.get)['host'] == '127.0.0.1'  # unset: the default member


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


@pytest.mark.parametrize('exc,category', [
    (EtcdConnectionFailed(None, [('http://a:1', 'connection refused')]), 'unreachable'),
    # The kind of each failure travels with it (the text is for people, never parsed back).
    (EtcdConnectionFailed(None, [Attempt('http://a:1', 'no answer within 1s', READ_TIMEOUT),
                                 Attempt('http://b:1', 'no connection within 1s', CONNECT_TIMEOUT)]), 'timed out'),
    (EtcdConnectionFailed(None, [Attempt('http://a:1', 'no answer within 1s', READ_TIMEOUT),
                                 Attempt('http://b:1', 'connection refused', REFUSED)]), 'unreachable'),
    (EtcdConnectionFailed(None, [('http://a:1', 'timed out, says the text')]), 'unreachable'),
    (EtcdTLSError(None, [('https://a:1', 'TLS: certificate verify failed')]), 'TLS error'),
    (EtcdOutcomeUnknown('no answer to a PUT that was sent', [('http://a:1', 'no answer within 1s')]), 'outcome unknown'),
    (EtcdV2NotEnabled(status=404, endpoint='http://a:1'), 'v2 API not enabled'),
    (EtcdUnauthorized('The request requires user authentication', error_code=110), 'unauthorized'),
    (EtcdTestFailed('Compare failed', error_code=101, cause='[3 != 4]'), 'condition failed'),
    (EtcdKeyNotFound('Key not found', error_code=100, cause='/k'), 'not found'),
    (EtcdNotFile('Not a file', error_code=102, cause='/k'), 'is a directory'),
    (ClientException('ttl must be a positive integer'), 'invalid argument'),
    (ValueError('nope'), 'invalid argument'),
    (RuntimeError('odd'), 'error'),
])
def test_error_category(exc, category):
    assert error_category(exc).startswith(category)
    message = describe_error(exc, key='/k')
    assert '\n' not in message
    assert category in message


def test_describe_error_names_key_endpoint_and_cause():
    exc = EtcdTestFailed('Compare failed', error_code=101, cause='[3 != 4]', index=9, endpoint='http://m1:2379')
    message = describe_error(exc, key='/app/x')
    assert message.startswith('key /app/x')
    assert 'http://m1:2379' in message and 'condition failed' in message and '[3 != 4]' in message


def test_describe_error_uses_an_own_category():
    class Refused(Exception):
        category = 'is a directory'
    assert describe_error(Refused('use etcd_dir'), key='/d') == 'key /d: is a directory: use etcd_dir'


def test_describe_error_hides_secrets():
    exc = EtcdTestFailed('Compare failed', error_code=101, cause='[hunter2 != hunter3]')
    message = describe_error(exc, key='/k', hide=['hunter2', 'hunter3', None, ''])
    assert 'hunter' not in message and '********' in message


def test_redact_short_values_only_as_words():
    assert redact('index 1 of 12 [1 != 2]', ['1']) == 'index ******** of 12 [******** != 2]'
    assert redact('abcabc', ['abc']) == '********'  # one mask for a run of hidden text
    # Key names are kept whole: hiding a value never rewrites the key it is stored under.
    assert redact('key /app/ab/x: [ab != cd]', ['ab'], keep=['/app/ab/x']) == 'key /app/ab/x: [******** != cd]'
    assert redact('/app/ab/x [/app/ab/x-pw]', ['/app/ab/x-pw'], keep=['/app/ab/x']) == '/app/ab/x [********]'
    # Longer secrets first, so a secret containing another is hidden whole.
    assert redact('pw=longsecret', ['long', 'longsecret']) == 'pw=********'


def test_missing_requests_gives_missing_required_lib(monkeypatch):
    monkeypatch.setattr(connection, 'HAS_REQUESTS', False)
    message = connection.missing_requirement()
    assert 'requests' in message
    with pytest.raises(RuntimeError) as info:
        monkeypatch.setattr(connection, 'Client', None)
        client_from_options(unset)
    assert 'requests' in str(info.value)
