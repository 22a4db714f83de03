use crate::gate::effects::tests::rule_of;

#[test]
fn kills_of_everything() {
    for cmd in [
        "kill -9 -1",
        "kill -s KILL -1",
        "kill -- -1",
        "kill 0",
        "kill -TERM 1",
        "pkill node",
        "killall -9 x",
        "killall5",
    ] {
        assert_eq!(rule_of(cmd), "kill-broad", "{cmd}");
    }
    for cmd in [
        "kill 1234",
        "kill -9 4242",
        "kill -l",
        "kill %1",
        "pkill -P 99 node",
    ] {
        assert_eq!(rule_of(cmd), "allow", "{cmd}");
    }
}

#[test]
fn tmux_server_and_sessions() {
    for cmd in [
        "tmux kill-server",
        "tmux kill-session -t brl",
        "tmux -S /tmp/tmux-0/default kill-server",
        "tmux -L default kill-server",
    ] {
        assert_eq!(rule_of(cmd), "tmux-kill", "{cmd}");
    }
    for cmd in [
        "tmux -L mine kill-server",
        "tmux -Lmine kill-session -t a",
        "tmux ls",
        "tmux capture-pane -p",
    ] {
        assert_eq!(rule_of(cmd), "allow", "{cmd}");
    }
}

#[test]
fn proc_environ() {
    for cmd in [
        "cat /proc/1/environ",
        "tr '\\0' '\\n' < /proc/self/environ",
        "cat $p/environ",
        "python3 -c \"print(open('/proc/1/environ').read())\"",
    ] {
        assert_eq!(rule_of(cmd), "proc-environ", "{cmd}");
    }
    assert_eq!(rule_of("cat /proc/cpuinfo"), "allow");
}

#[test]
fn forge_destructive_verbs() {
    for cmd in [
        "gh repo delete o/r --yes",
        "glab repo delete g/r -y",
        "gh api -X DELETE repos/o/r",
        "gh api --method=DELETE x",
        "gh release delete v1",
        "gh repo archive o/r",
    ] {
        assert_eq!(rule_of(cmd), "forge-destructive", "{cmd}");
    }
    for cmd in [
        "gh repo view o/r",
        "gh api repos/o/r",
        "gh issue list --label delete",
        "gh pr create --fill",
    ] {
        assert_eq!(rule_of(cmd), "allow", "{cmd}");
    }
}

#[test]
fn database_flushes() {
    for cmd in [
        "redis-cli flushall",
        "redis-cli -n 2 FLUSHDB",
        "echo FLUSHALL | redis-cli",
        "dropdb app",
        "mysqladmin drop app",
        "mongosh --eval 'db.dropDatabase()'",
        "bin/rails db:drop",
        "python manage.py flush",
        "npx prisma migrate reset",
    ] {
        assert_eq!(rule_of(cmd), "db-destructive", "{cmd}");
    }
    for cmd in [
        "redis-cli ping",
        "createdb t",
        "rails db:migrate",
        "python manage.py migrate",
        "npx prisma migrate dev",
    ] {
        assert_eq!(rule_of(cmd), "allow", "{cmd}");
    }
}

#[test]
fn power_and_crontab() {
    for cmd in [
        "sudo shutdown -h now",
        "reboot",
        "systemctl poweroff",
        "init 0",
        "crontab -r",
    ] {
        assert_eq!(rule_of(cmd), "machine", "{cmd}");
    }
    for cmd in ["crontab -l", "systemctl status nginx", "uptime"] {
        assert_eq!(rule_of(cmd), "allow", "{cmd}");
    }
    assert_eq!(rule_of("busybox rm -rf /"), "rm-outside-worktree");
    assert_eq!(rule_of("toybox rm -rf ~"), "rm-outside-worktree");
    assert_eq!(rule_of("busybox sh -c 'rm -rf /'"), "rm-outside-worktree");
    assert_eq!(rule_of("busybox ls"), "allow");
}
