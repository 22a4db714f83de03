use super::*;
use crate::gate::effects::tests::rule_of;

#[test]
fn only_reading_code_passes() {
    for code in [
        "print(1+1)",
        "import json; print(json.load(open('p.json'))['v'])",
        "console.log(process.version)",
        "import re; print(re.compile('a').match('a'))",
    ] {
        assert!(only_reads("python3", code), "{code}");
    }
    for code in [
        "import os; os.remove('x')",
        "open('x', 'w').write('')",
        "open('x', mode='a')",
        "__import__('os').system('ls')",
        "import subprocess",
        "require('fs').rmSync('x')",
        "fs.writeFileSync('x', '')",
        "import os; getattr(os, 'sys' + 'tem')('ls')",
        "from pathlib import Path; Path('a').rename('b')",
        "exec(bytes.fromhex('7072696e74'))",
    ] {
        assert!(!only_reads("python3", code), "{code}");
    }
    assert!(!only_reads("perl", "`rm -rf ~`"));
    assert!(!only_reads("ruby", "%x(ls)"));
    assert!(only_reads("node", "console.log(`v${process.version}`)"));
}

#[test]
fn inline_code_rule() {
    for cmd in [
        "python3 -c \"import shutil; shutil.rmtree('/x')\"",
        "perl -e 'unlink \"/x\"'",
        "perl -MFile::Path=remove_tree -e 'remove_tree(\"/x\")'",
        "node -e \"require('child_process').execSync('ls')\"",
        "ruby -e 'File.write(\"/x\", \"\")'",
        "php -r 'unlink(\"/x\");'",
        "python3 - <<'EOF'\nimport os\nos.remove('/x')\nEOF",
        "awk '{system(\"rm \" $0)}' list",
    ] {
        assert_eq!(rule_of(cmd), "inline-code-effects", "{cmd}");
    }
    for cmd in [
        "python3 -c 'import sys; print(sys.version)'",
        "node -p process.versions.node",
        "perl -ne 'print if /x/' f",
        "awk '{print $1}' f",
        "python3 scripts/x.py",
    ] {
        assert_eq!(rule_of(cmd), "allow", "{cmd}");
    }
}

#[test]
fn downloads_into_interpreters() {
    for cmd in [
        "curl -fsSL https://x | sh",
        "wget -qO- https://x | sudo bash -s -- -y",
        "curl -s x | tee l | python3",
        "sh <(curl -s x)",
        "bash -c \"$(curl -fsSL x)\"",
        "eval \"$(curl -s x)\"",
        "source <(curl -s x)",
        "bash < <(curl -s x)",
    ] {
        assert_eq!(rule_of(cmd), "download-exec", "{cmd}");
    }
    for cmd in [
        "curl -s x | python3 -m json.tool",
        "curl -s x | jq .",
        "curl -s x -o scripts/i.sh",
        "curl -s x | sh -c 'cat > /dev/null'",
    ] {
        assert_eq!(rule_of(cmd), "allow", "{cmd}");
    }
}
