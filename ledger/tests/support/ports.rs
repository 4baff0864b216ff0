//! Ports for the servers the tests start (`nats-server`, chromedriver). Shared by the
//! engine's and the binary's tests: each test binary includes this file once, as a module
//! beside `nats`.
//!
//! A port from `bind(127.0.0.1:0)` comes from the kernel's ephemeral range, which every
//! other `bind(…:0)` and every outgoing connection of every test running at the same time
//! also draws from. Such a port, closed again to hand it to a server, could be taken by
//! another test before the server binds it, or while a node is stopped for a restart (which
//! happened: "bind: address already in use" on a restarted node's port). These ports come
//! from below that range instead, each handed out once per test binary, and free when chosen.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// A free loopback port outside the kernel's ephemeral range, never handed out twice by
/// this test binary.
pub fn test_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (low, high) = ephemeral_range();
    let (start, end) = if low > 11_000 {
        (10_000, low)
    } else {
        (high + 1, 65_536)
    };
    let span = end - start;
    // test binaries run one after another; starting each elsewhere keeps a port that the
    // last binary's servers left in TIME_WAIT out of the way
    let offset = std::process::id() % span;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(n < span, "no free port left for test servers");
        let port = u16::try_from(start + (offset + n) % span).expect("a port");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The kernel's ephemeral port range (`/proc/sys/net/ipv4/ip_local_port_range`), or
/// Linux's default when it cannot be read.
fn ephemeral_range() -> (u32, u32) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32_768, 60_999))
}
