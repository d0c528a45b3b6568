# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS SRV discovery of etcd client endpoints.

``_etcd-client-ssl._tcp.<domain>`` is asked first and its targets are spoken to over https;
then ``_etcd-client._tcp.<domain>`` over http. Records are ordered by priority, and within one
priority by RFC 2782's weighted random choice. Finding nothing is an error, never a quiet fall
back to localhost. dnspython is needed only for this; the resolver is dnspython's default one
(``dns.resolver.get_default_resolver()``), which reads /etc/resolv.conf.
"""
from __future__ import annotations

import random
from typing import List, Optional, Sequence, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException

SRV_NAMES = (('https', '_etcd-client-ssl._tcp.'), ('http', '_etcd-client._tcp.'))

# (priority, weight, port, target)
SrvRecord = Tuple[int, int, int, str]


def order_records(records: Sequence[SrvRecord], rng: Optional[random.Random] = None) -> List[SrvRecord]:
    """Order SRV records: lowest priority first; inside a priority, weighted random (RFC 2782)."""
    rng = rng or random.Random()
    ordered: List[SrvRecord] = []
    for priority in sorted({rec[0] for rec in records}):
        group = [rec for rec in records if rec[0] == priority]
        # Zero-weight records get a small chance only when they are alone, as the RFC asks.
        group.sort(key=lambda rec: rec[1])
        while group:
            total = sum(rec[1] for rec in group)
            if total == 0:
                ordered.extend(group)
                break
            pick = rng.uniform(0, total)
            running = 0
            for index, rec in enumerate(group):
                running += rec[1]
                if running >= pick and rec[1] > 0:
                    ordered.append(group.pop(index))
                    break
    return ordered


def srv_endpoints(domain: str, rng: Optional[random.Random] = None) -> List[str]:
    """Base URLs (``scheme://host:port``) of the etcd members announced under ``domain``.

    Raises ClientException when dnspython is missing, the lookup fails, or no record exists.
    """
    if not isinstance(domain, str) or not domain.strip('. '):
        raise ClientException('srv_domain must be a non-empty domain name, got %r' % (domain,))
    try:
        import dns.exception  # pylint: disable=import-outside-toplevel
        import dns.resolver  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ClientException('srv_domain needs the Python package dnspython: pip install dnspython') from None
    resolver = dns.resolver.get_default_resolver()
    domain = domain.strip().rstrip('.')
    for scheme, prefix in SRV_NAMES:
        name = prefix + domain
        try:
            answer = resolver.resolve(name, 'SRV')
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
        except dns.exception.DNSException as exc:
            raise ClientException('DNS SRV lookup of %s failed: %s' % (name, exc)) from None
        records = [(r.priority, r.weight, r.port, r.target.to_text(omit_final_dot=True)) for r in answer]
        if records:
            return ['%s://%s:%d' % (scheme, _bracket(target), port) for _prio, _weight, port, target in order_records(records, rng)]
    raise ClientException('no etcd SRV records for %s (asked _etcd-client-ssl._tcp.%s and _etcd-client._tcp.%s)' % (domain, domain, domain))


def _bracket(host: str) -> str:
    return '[%s]' % host if ':' in host else host
