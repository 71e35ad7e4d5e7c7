"""Neoway's error responses, each provoked by a real fault over the real pty: a refused port, a
name the hosts map lacks, TLS with the wrong CA, a server that stalls, one that closes before or
in the middle of its response, data after '>' that never comes, a file that cannot be written,
the data link down.  And bad input of every kind: ERROR, after which the module still answers."""
from __future__ import annotations

import ssl

import pytest

from bridge.device.fs import ModuleFileSystem
from support.servers import (BlobServer, CloseMidBodyServer, RawServer, RefusedPort, StallServer, install_ca, make_ca,
                             server_context)
from support import neoway_faults as faults
from support.neoway_emulated import OK, ask, fs_root, neoway, wait_for
from support.neoway_faults import CLOSED_LINE, ERROR, HOST, NO_SOCKET, still_serving


# ---- HTTPSETUP: connect failures ---------------------------------------------------------------------


@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_setup_refused_port_is_error(tmp_path, family):
    with RefusedPort() as port, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+{family}PARA=url,{HOST}:{port}/") == OK
        assert ask(host, f"AT+{family}SETUP") == ERROR
        assert ask(host, f"AT+{family}ACTION=0") == (ERROR if family == "HTTPS" else NO_SOCKET)
        still_serving(host)


@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_setup_unknown_name_is_error(tmp_path, family):
    """9.2: "ERROR - DNS translation fails" -- a name missing from the hosts map."""
    with BlobServer() as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+{family}PARA=url,unknown.example:{server.port}/blob/1") == OK
        assert ask(host, f"AT+{family}SETUP") == ERROR
        assert ask(host, f"AT+{family}GET=0") == OK  # OK at once; the download fails in background
        assert wait_for(host, rf"\+{family}GETRPT: [^\r]*\r\n") == f"\r\n+{family}GETRPT: 11\r\n".encode()
        assert server.connections == 0


def test_tls_with_the_wrong_ca_is_error(tmp_path, ca):
    other = make_ca()
    with BlobServer(server_context(ca, names=(HOST,))) as server, neoway(tmp_path) as (host, side):
        install_ca(ModuleFileSystem(fs_root(tmp_path)), other, "wrong.pem")
        assert ask(host, 'AT+HTTPSCFG="cacert","wrong.pem"') == OK
        assert ask(host, 'AT+HTTPSCFG="authmode",1') == OK
        assert ask(host, f"AT+HTTPSPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, "AT+HTTPSSETUP") == ERROR
        assert server.connections == 1  # it got as far as the server's certificate
        assert ask(host, 'AT+HTTPSCFG="cacert","missing.pem"') == OK  # a file that is not there
        assert ask(host, "AT+HTTPSSETUP") == ERROR
        assert server.connections == 1  # no CA to verify with: it does not even connect
        assert ask(host, 'AT+HTTPSCFG="authmode",0') == OK  # no verification: it connects
        assert ask(host, "AT+HTTPSSETUP") == OK


def test_sslversion_is_the_lowest_offered(tmp_path, ca):
    """sslversion names the lowest version offered (dialect-facts): 3 (TLS 1.2) refuses a server
    that stops at TLS 1.1.  (SSL 3.0, value 0, is not pinned either: tests/system/test_neoway_sslversion.py.)"""
    with BlobServer(server_context(ca, max_version=ssl.TLSVersion.TLSv1_1)) as server, neoway(tmp_path) as (host, side):
        assert ask(host, 'AT+HTTPSCFG="sslversion",3') == OK
        assert ask(host, f"AT+HTTPSPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, "AT+HTTPSSETUP") == ERROR


# ---- HTTPACTION: faults after the link is up --------------------------------------------------------


def test_server_that_stalls(tmp_path):
    with StallServer() as server, neoway(tmp_path, response_timeout=0.5) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+HTTPACTION=0", timeout=5) == OK  # the request went out ...
        assert wait_for(host, r"\r\n\+HTTP[^\r]*\r\n") == CLOSED_LINE  # ... nothing came back
        assert server.received.is_set()
        assert ask(host, "AT+HTTPACTION=0") == NO_SOCKET  # the link is gone
        still_serving(host)


@pytest.mark.parametrize("recvmode", ["0", "1"])
def test_server_that_closes_mid_body(tmp_path, recvmode):
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    with CloseMidBodyServer(total=1000, sent=100) as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=recvmode,{recvmode}") == OK
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+HTTPACTION=0") == OK
        text = wait_for(host, r"\+HTTPCLOSED: [^\r]*\r\n")
    raw = head + b"\xab" * 100
    if recvmode == "0":
        assert text == b"\r\n+HTTPRECV:\r\n" + raw + CLOSED_LINE
    else:
        assert text.startswith(b"\r\n+HTTPRECV: ") and text.endswith(CLOSED_LINE)
        assert b"".join(piece.split(b",", 1)[1] for piece in text[:-len(CLOSED_LINE)].split(b"\r\n+HTTPRECV: ")[1:]) == raw + b"\r\n"


def test_server_that_closes_before_answering(tmp_path):
    with RawServer(b"") as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+HTTPACTION=1") == OK
        assert wait_for(host, r"\r\n\+HTTP[^\r]*\r\n") == CLOSED_LINE


def test_https_handshake_that_never_completes(tmp_path):
    """A plain server that waits for an HTTP head: the TLS handshake times out (setup_timeout)."""
    with RawServer(b"HTTP/1.1 400 Bad Request\r\n\r\n") as server, neoway(tmp_path, setup_timeout=0.5) as (host, side):
        assert ask(host, f"AT+HTTPSPARA=url,{HOST}:{server.port}/") == OK
        assert ask(host, "AT+HTTPSSETUP") == ERROR


@pytest.mark.parametrize("family, answer", [("HTTP", b"\r\n+HTTPACTION: OPERATION EXPIRED\r\n"), ("HTTPS", ERROR)])
@pytest.mark.parametrize("sent", [b"", b"half"])
def test_data_after_prompt_never_comes(tmp_path, ca, family, answer, sent):
    faults.data_after_prompt_never_comes(tmp_path, ca, family, answer, sent)


def test_file_that_cannot_be_written(tmp_path):
    root = fs_root(tmp_path)
    root.mkdir(parents=True, exist_ok=True)
    (root / "blocker").write_bytes(b"a file, not a folder")
    (root / "http").write_bytes(b"HTTPGET's folder is a file")
    with BlobServer() as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/100") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+FILEHTTPACTION=0,0,100,blocker/x.bin") == OK
        assert wait_for(host, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 0,0\r\n"
        assert ask(host, "AT+HTTPGET=0") == OK
        assert wait_for(host, r"\+HTTPGETRPT: [^\r]*\r\n") == b"\r\n+HTTPGETRPT: 11\r\n"
        assert ask(host, "AT+FILEHTTPACTION=1,10,0,nothing.txt") == ERROR  # nothing to POST
        still_serving(host)


def test_data_link_down(tmp_path):
    faults.data_link_down(tmp_path)


# ---- bad input ----------------------------------------------------------------------------------------


def test_bad_commands_are_errors(tmp_path):
    faults.bad_commands_are_errors(tmp_path)


@pytest.mark.parametrize("raw", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r",                      # not ending in CRLF
    b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",                   # a method the request model lacks
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc\r\n",  # body shorter than said
    b"GET / HTTP/1.1\r\n\r\n",                               # HTTP/1.1 without Host
    b"not http at all\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n",  # bytes after the request
])
def test_bad_raw_requests_are_errors(tmp_path, raw):
    faults.bad_raw_requests_are_errors(tmp_path, raw)


def test_random_bytes(tmp_path):
    faults.random_bytes(tmp_path)
