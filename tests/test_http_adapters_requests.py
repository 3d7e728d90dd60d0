"""The requests adapter: netbasics.http_guard.requests (the shared cases, and requests' own)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

pytest.importorskip("requests")
pytest.importorskip("trustme")

import requests

import netbasics
from http_adapter_cases import *  # noqa: F403
from http_adapter_cases import Driver, Opening
from http_fixtures import NAME, OTHER_NAME, CountingServer, FakeResolver, Refusals, policy_for
from netbasics.http_guard.requests import GuardedHTTPAdapter, GuardedSession, guarded_session


class _Session:
    def __init__(self, session: requests.Session, verify: str | bool) -> None:
        self.session = session
        self.verify = verify

    def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        response = self.session.get(url, headers=headers, verify=self.verify, timeout=10)
        return response.status_code, response.content


class RequestsDriver(Driver):
    @contextmanager
    def session(self, opening: Opening) -> Iterator[_Session]:
        with tempfile.TemporaryDirectory() as tmp:
            verify: str | bool = True
            if opening.ca is not None:
                verify = os.path.join(tmp, "ca.pem")
                opening.ca.cert_pem.write_to_path(verify)
            with guarded_session(opening.policy, **opening.guard, trust_env=opening.trust_env) as session:
                yield _Session(session, verify)


@pytest.fixture
def driver() -> RequestsDriver:
    return RequestsDriver()


def test_cookies_given_to_the_request_stay_with_its_origin(public: CountingServer, second: CountingServer) -> None:
    resolver = FakeResolver({NAME: [["127.0.0.1"]], OTHER_NAME: [["127.0.0.1"]]})
    target = second.url("/headers", host=OTHER_NAME)
    with guarded_session(policy_for(public.port, second.port), resolver=resolver) as session:
        response = session.get(public.url(f"/redirect?to={target}", host=NAME), cookies={"token": "secret"})
        assert "secret" not in response.json().get("cookie", "")
        same = public.url("/headers", host=NAME)
        response = session.get(public.url(f"/redirect?to={same}", host=NAME), cookies={"token": "secret"})
        assert response.json().get("cookie") == "token=secret"


def test_plain_requests_would_carry_them(public: CountingServer, second: CountingServer) -> None:
    # The reason for the cookie filter: requests sends cookies= to the redirect target.
    target = second.url("/headers")
    with requests.Session() as session:
        session.trust_env = False
        response = session.get(public.url(f"/redirect?to={target}"), cookies={"token": "secret"}, timeout=10)
    assert json.loads(response.content).get("cookie") == "token=secret"


def test_the_adapter_alone_on_a_plain_session(public: CountingServer) -> None:
    refusals = Refusals()
    with requests.Session() as session:
        session.trust_env = False
        session.mount("http://", GuardedHTTPAdapter(policy_for(public.port), on_refusal=refusals))
        assert session.get(public.url(), timeout=10).status_code == 200
        with pytest.raises(netbasics.UnsafeDestination):
            session.get(f"http://127.0.0.1:{public.port + 1}/", timeout=10)
    assert len(refusals.seen) == 1


def test_socks_proxies_are_refused(public: CountingServer) -> None:
    with GuardedSession(policy_for(public.port)) as session, pytest.raises(requests.exceptions.InvalidProxyURL):
        session.get(public.url(), proxies={"http": "socks5://127.0.0.1:1080"}, timeout=10)
    assert public.accepts == 0


def test_the_socket_is_connected_to_a_checked_address(public: CountingServer) -> None:
    resolver = FakeResolver({NAME: [["127.0.0.1"]]})
    with guarded_session(policy_for(public.port), resolver=resolver) as session:
        response = session.get(public.url(host=NAME), stream=True, timeout=10)
        try:
            assert response.raw.connection is not None
            assert response.raw.connection.sock.getpeername() == ("127.0.0.1", public.port)
        finally:
            response.close()
