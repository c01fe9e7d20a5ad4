// scale-setup.mjs - for bench/scale.sh: a municipality with its admin session, made through the
// API of the bench's own stack (`org`), or a fresh session of that admin (`login USER PASSWORD`:
// the load between the two measurements outlasts an access token). Prints one JSON line.
// Usage: node bench/scale-setup.mjs org | login USER PASSWORD   (SESSHU_TEST_* from scale.sh)
import { orgWithAdmin, login } from '../tests/api/lib/fixtures.mjs';

const [mode, user, password] = process.argv.slice(2);
if (mode === 'login') {
  const s = await login(user, password);
  console.log(JSON.stringify({ token: s.access }));
} else {
  const m = await orgWithAdmin('municipality');
  const s = m.adminSession;
  console.log(JSON.stringify({ token: s.access, user: s.user_id, password: s.password, muni: m.code, org: s.orgId }));
}
