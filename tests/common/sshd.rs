//! Real OpenSSH servers on loopback for the multi-host tests: each [`Sshd`] is one "host" with its
//! own throwaway host key, its own client key, its own port and its own directory (the host's
//! `dir` in brl.toml lives in there, so two hosts' files stay apart). `tests/deps.sh` installs
//! openssh-server when `sshd` is missing. Only the sshd this harness started is ever stopped, by
//! its pid.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sshd {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The client's private key (for `identity` in `[[hosts]]`).
    pub client_key: PathBuf,
    /// A known_hosts file that holds this server's key, so host keys are checked for real.
    pub known_hosts: PathBuf,
    pub user: String,
    child: Option<Child>,
}

/// Where sshd is (Debian puts it in /usr/sbin, which a user's PATH may lack).
pub fn sshd_path() -> PathBuf {
    for p in ["/usr/sbin/sshd", "/usr/local/sbin/sshd"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    let out = Command::new("sh")
        .args(["-c", "command -v sshd"])
        .output()
        .expect("sh runs");
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !p.is_empty(),
        "sshd is not installed: run `bash tests/deps.sh` (it installs openssh-server)"
    );
    PathBuf::from(p)
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "brl-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen runs");
    assert!(st.success(), "ssh-keygen failed for {}", path.display());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Sshd {
    /// A new server for host `name`, listening on a free loopback port.
    pub fn start(name: &str) -> Sshd {
        let dir = tempfile::Builder::new()
            .prefix(&format!("brl-host-{name}-"))
            .tempdir()
            .expect("tempdir");
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(&etc).expect("mkdir");
        keygen(&etc.join("host_key"));
        keygen(&etc.join("client_key"));
        let user = String::from_utf8_lossy(
            &Command::new("id")
                .arg("-un")
                .output()
                .expect("id runs")
                .stdout,
        )
        .trim()
        .to_string();
        std::fs::copy(etc.join("client_key.pub"), etc.join("authorized_keys")).expect("copy");
        let port = free_port();
        let host_pub = std::fs::read_to_string(etc.join("host_key.pub")).expect("host key");
        let known_hosts = etc.join("known_hosts");
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {host_pub}")).expect("write");
        // Privilege separation needs this directory when sshd runs as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nAuthorizedKeysFile {ak}\n\
             PidFile {pid}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
             MaxSessions 64\nMaxStartups 64\nLogLevel VERBOSE\nSubsystem sftp internal-sftp\n",
            hk = etc.join("host_key").display(),
            ak = etc.join("authorized_keys").display(),
            pid = etc.join("sshd.pid").display(),
        );
        std::fs::write(etc.join("sshd_config"), config).expect("write");
        let mut s = Sshd {
            name: name.to_string(),
            port,
            client_key: etc.join("client_key"),
            known_hosts,
            user,
            dir,
            child: None,
        };
        s.resume();
        s
    }

    /// The host's brl working directory (absolute: both servers log in as the same user).
    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// A `[[hosts]]` table for this server.
    pub fn host_toml(&self, sessions: u32) -> String {
        format!(
            "[[hosts]]\nname = \"{name}\"\nssh = \"{user}@127.0.0.1\"\nport = {port}\nidentity = \"{key}\"\noptions = [\"UserKnownHostsFile={kh}\", \"StrictHostKeyChecking=yes\"]\nsessions = {sessions}\ndir = \"{dir}\"\n",
            name = self.name,
            user = self.user,
            port = self.port,
            key = self.client_key.display(),
            kh = self.known_hosts.display(),
            dir = self.work_dir().display(),
        )
    }

    /// The same as a `HostConfig`, for tests that use the library directly.
    pub fn host_config(&self, sessions: u32) -> brl::config::HostConfig {
        toml::from_str::<toml::Table>(&self.host_toml(sessions))
            .ok()
            .and_then(|t| t.get("hosts").cloned())
            .and_then(|h| h.as_array().and_then(|a| a.first().cloned()))
            .and_then(|v| v.try_into().ok())
            .expect("host table parses")
    }

    /// Start (again) on the same port, and wait until it accepts connections.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "sshd {} already runs", self.name);
        let etc = self.dir.path().join("etc");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(etc.join("sshd.log"))
            .expect("log");
        let child = Command::new(sshd_path())
            .args(["-D", "-e", "-f"])
            .arg(etc.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(st))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "sshd {} exited with {st}: {}",
                    self.name,
                    std::fs::read_to_string(etc.join("sshd.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "sshd {} never listened",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop the listening server (its pid only). Connections already open are children of
    /// their own: `drop_connections` ends those too.
    pub fn pause(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kill the per-connection sshd processes this server started (their parent pid is ours).
    pub fn drop_connections(&self) {
        let Some(pid) = self.child.as_ref().map(|c| c.id()) else {
            return;
        };
        for kid in children_of(pid) {
            // SAFETY: kill with a pid this harness's sshd spawned.
            unsafe {
                libc::kill(kid as i32, libc::SIGKILL);
            }
        }
    }

    /// How many connections this server holds now (its per-connection children).
    pub fn connections(&self) -> usize {
        self.child
            .as_ref()
            .map(|c| children_of(c.id()).len())
            .unwrap_or(0)
    }
}

/// The pids whose parent is `pid` (from /proc).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return kids;
    };
    for e in rd.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // The fields after the command's closing parenthesis: state, ppid, …
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            kids.push(p);
        }
    }
    kids
}

/// The pids (other than this process) whose command line names `path`: everything a test
/// started for one host — its tmux server, workers, pane copiers — runs from that host's own
/// temp dir, so a failing test leaves nothing behind on the machine.
fn processes_naming(path: &Path) -> Vec<u32> {
    let needle = path.as_os_str().as_encoded_bytes();
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|p| *p != me)
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.drop_connections();
        self.pause();
        for pid in processes_naming(self.dir.path()) {
            // SAFETY: kill with a pid whose command line names this host's own temp dir.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
    }
}
