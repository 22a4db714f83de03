#!/bin/sh
# Adds a passing test; leaves it uncommitted (brl commits it).
set -e
cat >> test/parse.test.ts <<'EOF'

describe("parse more", () => {
  it("reads garbage as zero", () => {
    expect(parseNumber("abc")).toBe(0);
  });
});
EOF
