#!/bin/sh
# Rebuild the test contracts' ABI + bytecode (contracts.json) from the .sol sources.
# Needs node and npm, only here: the tests read the committed JSON and never need node.
#   mkdir -p /tmp/solc && (cd /tmp/solc && npm init -y >/dev/null && npm install solc@0.8.28)
#   SOLC_DIR=/tmp/solc sh tests/chain/contracts/build.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
SOLC_DIR=${SOLC_DIR:-/tmp/solc}
cd "$here"
NODE_PATH="$SOLC_DIR/node_modules" node - <<'JS'
const fs = require("fs");
const solc = require("solc");
const files = fs.readdirSync(".").filter((f) => f.endsWith(".sol")).sort();
const input = {
  language: "Solidity",
  sources: Object.fromEntries(files.map((f) => [f, { content: fs.readFileSync(f, "utf8") }])),
  settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "paris",
              outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) { console.error(errors.map((e) => e.formattedMessage).join("\n")); process.exit(1); }
const result = { compiler: solc.version(), contracts: {} };
for (const f of files) {
  for (const [name, c] of Object.entries(out.contracts[f])) {
    result.contracts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
  }
}
fs.writeFileSync("contracts.json", JSON.stringify(result, null, 1) + "\n");
console.log("wrote contracts.json:", Object.keys(result.contracts).join(", "));
JS
