//! The SSH layer against real OpenSSH servers on loopback: commands ride one master connection
//! per host, a stopped server is reported as unreachable in ssh's words, and the layer recovers
//! when it is back.

mod common;

use std::time::Duration;

use brl::home::Home;
use brl::hosts::{Ssh, SshError};
use common::sshd::Sshd;

#[test]
fn one_master_per_host_survives_a_server_outage() {
    let mut a = Sshd::start("a");
    let b = Sshd::start("b");
    let home_dir = tempfile::tempdir().expect("tempdir");
    let home = Home::new(home_dir.path());
    let sa = Ssh::new(&home, &a.host_config(2));
    let sb = Ssh::new(&home, &b.host_config(2));
    sa.ensure_master().expect("master a");
    sb.ensure_master().expect("master b");
    assert!(sa.master_running() && sb.master_running());
    assert_ne!(sa.control_path(), sb.control_path());

    // Many commands, one connection: the server sees a single client connection throughout.
    for i in 0..12 {
        let out = sa
            .run(
                &["sh", "-c", "echo \"$0 $1\"", "it's", &i.to_string()],
                None,
                Duration::from_secs(20),
            )
            .expect("runs");
        assert!(out.ok(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("it's {i}")
        );
    }
    assert_eq!(
        a.connections(),
        1,
        "every command rode the one master connection"
    );
    let out = sa
        .run(
            &["cat"],
            Some(b"stdin reaches the host\n"),
            Duration::from_secs(20),
        )
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "stdin reaches the host\n"
    );
    let out = sa
        .run(&["sh", "-c", "exit 3"], None, Duration::from_secs(20))
        .expect("runs");
    assert_eq!(out.status, Some(3), "the command's own status is passed on");

    // The two hosts' directories are apart.
    assert_ne!(a.work_dir(), b.work_dir());

    // Server gone: connections dropped and no listener. Commands fail as unreachable, naming the
    // host and the fix, within ssh's timeouts.
    a.drop_connections();
    a.pause();
    let err = sa
        .run(&["true"], None, Duration::from_secs(30))
        .expect_err("host is down");
    let text = err.to_string();
    assert!(matches!(err, SshError::Unreachable { .. }), "{text}");
    assert!(
        text.contains("host `a` is unreachable") && text.contains("fix:"),
        "{text}"
    );
    assert!(sa.ensure_master().is_err());
    // The other host is untouched.
    assert!(
        sb.run(&["true"], None, Duration::from_secs(20))
            .expect("b runs")
            .ok()
    );

    // Back on the same port: the master comes back and commands ride it again.
    a.resume();
    sa.ensure_master().expect("master again");
    assert!(
        sa.run(&["true"], None, Duration::from_secs(20))
            .expect("runs")
            .ok()
    );
    assert_eq!(a.connections(), 1);

    // A command that outlives its timeout is stopped and said so.
    let err = sa
        .run(&["sleep", "30"], None, Duration::from_millis(700))
        .expect_err("times out");
    assert!(matches!(err, SshError::TimedOut { .. }), "{err}");

    sa.close();
    sb.close();
    assert!(!sa.master_running() && !sb.master_running());
}
