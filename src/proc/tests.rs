use std::time::Instant;

use super::*;

fn spec<'a>(command: &'a str, cwd: &'a Path, timeout: Duration) -> Spec<'a> {
    Spec {
        command,
        cwd,
        env: vec![("BRL_TEST_VAR".into(), "hello".into())],
        stdin: Some(b"from stdin\n".to_vec()),
        timeout,
        cancel: None,
        pgid_file: None,
    }
}

#[test]
fn captures_output_stdin_env_and_exit_code() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut seen = Vec::new();
    let r = run(
        spec(
            "cat; echo $BRL_TEST_VAR; echo err >&2; exit 3",
            d.path(),
            Duration::from_secs(10),
        ),
        &mut |c| seen.extend_from_slice(c),
    )
    .expect("run");
    assert_eq!(r.end, End::Exited(3));
    assert_eq!(r.output, "from stdin\nhello\nerr\n");
    assert_eq!(seen, r.output.as_bytes());
}

#[test]
fn timeout_kills_the_whole_group() {
    let d = tempfile::tempdir().expect("tempdir");
    let pidfile = d.path().join("bg.pid");
    let cmd = format!("sleep 300 & echo $! > {}; sleep 300", pidfile.display());
    let r = run(
        spec(&cmd, d.path(), Duration::from_millis(500)),
        &mut |_| {},
    )
    .expect("run");
    assert_eq!(r.end, End::TimedOut);
    assert!(r.duration < Duration::from_secs(10));
    let bg: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid")
        .trim()
        .parse()
        .expect("num");
    // Killed: it may take the kernel a moment to finish its exit.
    let gone = Instant::now() + Duration::from_secs(2);
    while is_running(bg) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !is_running(bg),
        "background child {bg} outlived the timeout"
    );
}

#[test]
fn stragglers_die_when_the_leader_exits() {
    let d = tempfile::tempdir().expect("tempdir");
    let pidfile = d.path().join("bg.pid");
    let cmd = format!("sleep 300 & echo $! > {}; exit 0", pidfile.display());
    let r = run(spec(&cmd, d.path(), Duration::from_secs(10)), &mut |_| {}).expect("run");
    assert_eq!(r.end, End::Exited(0));
    let bg: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid")
        .trim()
        .parse()
        .expect("num");
    std::thread::sleep(Duration::from_millis(100));
    assert!(!is_running(bg), "straggler {bg} survived");
}

#[test]
fn the_group_is_recorded_before_the_command_runs() {
    let d = tempfile::tempdir().expect("tempdir");
    let pgid_file = d.path().join("running.pgid");
    let seen = d.path().join("seen");
    let cmd = format!(
        "cat '{}' > '{}'; echo $$ >> '{}'; cat",
        pgid_file.display(),
        seen.display(),
        seen.display()
    );
    let mut s = spec(&cmd, d.path(), Duration::from_secs(10));
    s.pgid_file = Some(pgid_file.clone());
    let r = run(s, &mut |_| {}).expect("run");
    assert_eq!(r.end, End::Exited(0));
    assert_eq!(
        r.output, "from stdin\n",
        "stdin reaches the command through the gate"
    );
    let text = std::fs::read_to_string(&seen).expect("seen");
    let mut lines = text.lines();
    let recorded = lines.next().expect("the recorded group");
    let me = lines.next().expect("the command's pid");
    assert_eq!(
        recorded.split_once(' ').map(|(p, _)| p),
        Some(me),
        "the command ran as the recorded group's leader: {text}"
    );
    assert!(!pgid_file.exists(), "removed once the command ended");
}

#[test]
fn sweeping_a_directory_kills_what_runs_there_but_not_us() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new("sleep")
        .arg("300")
        .current_dir(d.path())
        .spawn()
        .expect("sleep");
    let pid = child.id() as i32;
    let killed = kill_in_dir(d.path());
    let _ = child.wait();
    assert_eq!(killed, vec![pid]);
    assert!(!is_running(pid));
    assert!(is_running(std::process::id() as i32));
}

#[test]
fn cancel_stops_it() {
    let d = tempfile::tempdir().expect("tempdir");
    let flag = AtomicBool::new(true);
    let mut s = spec("sleep 300", d.path(), Duration::from_secs(100));
    s.cancel = Some(&flag);
    let r = run(s, &mut |_| {}).expect("run");
    assert_eq!(r.end, End::Cancelled);
}

#[test]
fn split_run_keeps_stdout_and_stderr_apart() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut seen: Vec<(Stream, Vec<u8>)> = Vec::new();
    let r = run_split(
        spec(
            "echo out1; echo err1 >&2; cat >&2; echo out2; exit 4",
            d.path(),
            Duration::from_secs(10),
        ),
        &mut |s, c| seen.push((s, c.to_vec())),
        Hooks::NONE,
    )
    .expect("run");
    assert_eq!(r.end, End::Exited(4));
    assert_eq!(r.output, "out1\nout2\n");
    assert_eq!(r.stderr, "err1\nfrom stdin\n");
    let of = |want: Stream| -> Vec<u8> {
        seen.iter()
            .filter(|(s, _)| *s == want)
            .flat_map(|(_, c)| c.clone())
            .collect()
    };
    assert_eq!(of(Stream::Stdout), r.output.as_bytes());
    assert_eq!(of(Stream::Stderr), r.stderr.as_bytes());
}

#[test]
fn merged_run_leaves_stderr_empty() {
    let d = tempfile::tempdir().expect("tempdir");
    let r = run(
        spec("echo a; echo b >&2", d.path(), Duration::from_secs(10)),
        &mut |_| {},
    )
    .expect("run");
    assert_eq!(r.output, "a\nb\n");
    assert_eq!(r.stderr, "");
}

/// This thread's context switches (voluntary + involuntary): about how often it woke.
fn my_switches() -> u64 {
    std::fs::read_to_string("/proc/thread-self/status")
        .expect("read /proc/thread-self/status")
        .lines()
        .filter(|l| l.contains("ctxt_switches:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

#[test]
fn waiting_for_a_quiet_command_sleeps_and_a_cancel_from_another_thread_acts_within_a_second() {
    let d = tempfile::tempdir().expect("tempdir");
    // Without a cancel flag: asleep until the exit (the 50 ms polling woke ~30 times here).
    let before = my_switches();
    let r = run(
        spec("sleep 1.5", d.path(), Duration::from_secs(60)),
        &mut |_| {},
    )
    .expect("run");
    let woke = my_switches() - before;
    assert_eq!(r.end, End::Exited(0));
    assert!(woke <= 10, "the waiting thread woke {woke} times in 1.5 s");
    // With one: a look at it once a second, and a flag set by another thread is honoured.
    let flag = AtomicBool::new(false);
    let mut s = spec("sleep 300", d.path(), Duration::from_secs(100));
    s.cancel = Some(&flag);
    let started = Instant::now();
    let r = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            flag.store(true, Ordering::SeqCst);
        });
        run(s, &mut |_| {}).expect("run")
    });
    assert_eq!(r.end, End::Cancelled);
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(2500),
        "cancel acted {took:?} after the start (set at 300 ms; checked every second)"
    );
}
