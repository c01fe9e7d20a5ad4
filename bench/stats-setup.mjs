// stats-setup.mjs - for bench/stats.sh: a 厚生労働省 organisation with its admin session (the
// analytics API's caller), made through the API of the bench's own stack. Prints one JSON line.
// Usage: node bench/stats-setup.mjs   (SESSHU_TEST_* from stats.sh)
import { orgWithAdmin } from '../tests/api/lib/fixtures.mjs';

const m = await orgWithAdmin('mhlw');
console.log(JSON.stringify({ token: m.adminSession.access }));
