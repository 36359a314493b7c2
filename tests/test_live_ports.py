"""The ports the live tests give their servers: never one the kernel gives a client socket."""

from __future__ import annotations

import socket

from tests.live_service import ephemeral_ports, free_port, port_slice


def test_a_free_port_is_outside_the_range_of_outgoing_connections() -> None:
    low, high = ephemeral_ports()
    for _ in range(20):
        port = free_port()
        assert not low <= port <= high
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # nothing holds it


def test_each_xdist_worker_has_ports_of_its_own() -> None:
    slices = [set(port_slice(f"gw{n}")) for n in range(8)]
    low, high = ephemeral_ports()
    for n, ports in enumerate(slices):
        assert ports
        assert all(not low <= port <= high and port < 65_536 for port in ports)
        for other in slices[n + 1 :]:
            assert not ports & other
    assert port_slice("") == port_slice("gw0")
