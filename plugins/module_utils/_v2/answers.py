# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a v2 answer means: its JSON body, or the exception for it. One parser, used by the
client and by ``EtcdResult(response)``."""
from __future__ import annotations

import json
from typing import Any, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdEmptyResponse,
    EtcdInvalidResponse,
    EtcdV2NotEnabled,
    exception_for,
)


def parse_body(status: int, headers: Any, text: str, endpoint: Optional[str], subject: Optional[str] = None,
               api: bool = True, write: bool = False) -> dict:
    """The JSON object of a v2 answer, or raise what it means.

    ``api`` says the path was under the v2 prefix (a plain-text 404 there means the member runs
    without ``--enable-v2``); ``write`` that the request could change data (a raft error 300
    after a write was proposed may still be applied: ``outcome_unknown``).
    """
    if 300 <= status < 400:
        raise EtcdInvalidResponse('unexpected redirect (HTTP %d) to %s' % (status, headers.get('Location')),
                                  key=subject, status=status, endpoint=endpoint)
    if not text.strip():
        if status in (204, 205):
            return {}  # no content, as a member removal answers
        raise EtcdEmptyResponse('empty answer (HTTP %d)' % status, key=subject, status=status, endpoint=endpoint)
    try:
        data = json.loads(text)
    except ValueError:
        # Go's default plain-text 404 is what etcd answers for v2 paths without --enable-v2.
        if status == 404 and api and text.strip() == '404 page not found':
            raise EtcdV2NotEnabled(key=subject, status=404, endpoint=endpoint) from None
        if status == 401:
            raise exception_for({'message': 'unauthorized: %s' % text.strip()[:80]}, 401, endpoint) from None
        raise EtcdInvalidResponse('answer is not JSON (HTTP %d), is this an etcd member? It began %.60r'
                                  % (status, text.strip()), key=subject, status=status, endpoint=endpoint) from None
    if not isinstance(data, dict):
        raise EtcdInvalidResponse('answer is not a JSON object (HTTP %d): %.60r' % (status, text),
                                  key=subject, status=status, endpoint=endpoint)
    if 'errorCode' in data or status >= 400:
        ambiguous = write and str(data.get('errorCode')) == '300'
        raise exception_for(data, status, endpoint, outcome_unknown=ambiguous, key=subject)
    return data


def leader_error(answer: Any, retry_safe: bool) -> bool:
    """The transport's retry predicate for v2: 301 (leader election, never applied) always; 300
    (raft internal) only for reads, since a write that failed that way may still be applied."""
    if answer.status != 500:
        return False
    text = answer.text.replace(' ', '')
    if '"errorCode":301' in text:
        return True
    return retry_safe and '"errorCode":300' in text
