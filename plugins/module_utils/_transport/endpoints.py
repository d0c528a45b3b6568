# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the etcd members are: host items and DNS SRV records to base URLs, and the limits of
what one request may carry. Knows nothing of the v2 or v3 API."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.discovery import srv_endpoints
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException

HostSpec = Union[str, Tuple[str, int], Sequence[Union[str, Tuple[str, int]]]]
# etcd serves HTTP and gRPC on one port through cmux, which reads at most 4096 bytes to find
# the request line of a new connection and closes the connection when that is not enough.
MAX_REQUEST_LINE = 4096


def check_port(port: Any) -> int:
    """A port number 1-65535; text of digits is taken as pyetcd takes it (``'2379'``)."""
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int):
        raise ClientException('port must be an integer, got %r' % (port,))
    if not 0 < port < 65536:
        raise ClientException('port must be 1-65535, got %d' % port)
    return port


def endpoint_list(host: Any, port: int, protocol: str, srv_domain: Optional[str]) -> List[str]:
    """Base URLs (``scheme://host:port``) of the members, in the order they are tried.

    With ``srv_domain`` the members come from DNS SRV (``host`` is not used). A host list that
    names no member is refused: never a silent default, since writes would then land in
    whatever listens on localhost.
    """
    if protocol not in ('http', 'https'):
        raise ClientException('protocol must be http or https, got %r' % (protocol,))
    if srv_domain:
        return srv_endpoints(srv_domain)
    items = [host] if isinstance(host, (str, tuple)) else list(host or [])
    items = [item for item in items if not (isinstance(item, str) and not item.strip())]
    if not items:
        raise ClientException('host names no etcd member (got %r)' % (host,))
    return [parse_host(item, port, protocol) for item in items]


def check_timeout(value: Any, name: str) -> Tuple[float, float]:
    """Seconds, or a ``(connect, read)`` pair, each a positive number."""
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2:
        raise ClientException('%s must be seconds or a (connect, read) pair, got %r' % (name, value))
    out = []
    for item in pair:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or item <= 0:
            raise ClientException('%s must be a positive number of seconds, got %r' % (name, value))
        out.append(float(item))
    return out[0], out[1]


def parse_host(item: Any, port: int, protocol: str) -> str:
    """One host item -> base URL ``scheme://host:port``."""
    if isinstance(item, (tuple, list)):
        if len(item) != 2:
            raise ClientException('host tuple must be (name, port), got %r' % (item,))
        name, item_port = item
        scheme = protocol
    elif isinstance(item, str):
        text = item.strip().rstrip('/')
        scheme = protocol
        if '://' in text:
            scheme, text = text.split('://', 1)
            scheme = scheme.lower()
        item_port = port
        if text.startswith('['):
            end = text.find(']')
            if end < 0:
                raise ClientException('host %r has an unclosed [ ]' % item)
            name, rest = text[1:end], text[end + 1:]
            if rest.startswith(':'):
                item_port = rest[1:]
            elif rest:
                raise ClientException('host %r: unexpected %r after ]' % (item, rest))
        elif text.count(':') == 1:
            name, item_port = text.split(':')
        else:
            name = text  # a name, or a bare IPv6 address
    else:
        raise ClientException('host must be a name, a list of names or a list of (name, port) tuples, got %r' % (item,))
    if scheme not in ('http', 'https'):
        raise ClientException('protocol must be http or https, got %r in %r' % (scheme, item))
    if not isinstance(name, str) or not name.strip():
        raise ClientException('host name must not be empty in %r' % (item,))
    try:
        item_port = int(item_port)
    except (TypeError, ValueError):
        raise ClientException('port must be a number, got %r in host %r' % (item_port, item)) from None
    if not 0 < item_port < 65536:
        raise ClientException('port must be 1-65535, got %d' % item_port)
    name = name.strip()
    if ':' in name:
        name = '[%s]' % name
    return '%s://%s:%d' % (scheme, name, item_port)


def check_request_line(method: str, path: str, query: str, subject: Optional[str]) -> None:
    """etcd drops a request line (``METHOD path?query HTTP/1.1``, the key URL-encoded, so up to
    12 bytes per non-ASCII character) over MAX_REQUEST_LINE on a new connection."""
    line = len(method) + 1 + len(path) + (1 + len(query) if query else 0) + len(' HTTP/1.1\r\n')
    if line > MAX_REQUEST_LINE:
        subject = subject or path
        shown = subject if len(subject) <= 60 else subject[:40] + '...' + subject[-10:]
        raise ClientException('key %s is too long: its request line is %d bytes URL-encoded, and etcd drops a '
                              'request line over %d bytes on a new connection' % (shown, line, MAX_REQUEST_LINE))
