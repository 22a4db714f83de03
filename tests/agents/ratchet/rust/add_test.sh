#!/bin/sh
# Adds a passing integration test; leaves it uncommitted (brl commits it).
set -e
printf '\n#[test]\nfn clamp_of_low_is_lo() {\n    assert_eq!(ratchet_rs::clamp(-5, 0, 10), 0);\n}\n' >> tests/extra.rs
