// audit-proof-setup.mjs - the token of bench/audit-proof.sh: the 国保中央会 operator's session
// (access_logs.verify) on the bench's own stack. Prints the access token.
// Usage: node bench/audit-proof-setup.mjs   (SESSHU_TEST_* from audit-proof.sh)
import { chuokai } from '../tests/api/lib/fixtures.mjs';

const s = await chuokai();
process.stdout.write(`${s.access}\n`);
