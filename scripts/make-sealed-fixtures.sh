#!/usr/bin/env bash
# Regenerates the committed version-2 (sealed) hostile transfer fixtures,
# Tests/FerryTransferTests/Fixtures/sealed-v2 (docs/transfer-protocol.md, "Committed version-2 fixtures"),
# with ferry's own sender and the fixed keys of SealedFixtureKeys, then checks them.
#   scripts/make-sealed-fixtures.sh
# Content keys, transfer ids and HPKE encapsulations are random: every run writes new bytes with the
# same keys and the same defects. Commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
FERRY_WRITE_SEALED_FIXTURES=1 swift test --skip-build --filter SealedFixtureGenerator
swift test --skip-build --filter SealedFixtureTests
