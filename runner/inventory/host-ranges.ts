// Ansible's host ranges in inventory names: `node-[1:3]`, `web[01:10]` (zero-padded), `db-[a:c]`,
// `x[0:10:5]` (stride). Several ranges in one name multiply.
const RANGE = /\[(\d+|[a-z]):(\d+|[a-z])(?::(\d+))?\]/;

export function expandHostRange(name: string): string[] {
  const m = RANGE.exec(name);
  if (!m) return [name];
  const [whole, from, to, strideText] = m as unknown as [string, string, string, string | undefined];
  const stride = strideText === undefined ? 1 : Number(strideText);
  const numeric = /^\d+$/.test(from);
  if (numeric !== /^\d+$/.test(to) || stride < 1) throw new Error(`host range ${whole} in '${name}' is invalid`);
  const start = numeric ? Number(from) : from.charCodeAt(0);
  const end = numeric ? Number(to) : to.charCodeAt(0);
  if (end < start) throw new Error(`host range ${whole} in '${name}' ends before it starts`);
  // A leading zero asks for fixed width, as in Ansible: [01:10] gives 01 … 10.
  const width = numeric && from.length > 1 && from.startsWith('0') ? from.length : 0;
  const before = name.slice(0, m.index);
  const after = name.slice(m.index + whole.length);
  const out: string[] = [];
  for (let i = start; i <= end; i += stride) {
    const part = numeric ? String(i).padStart(width, '0') : String.fromCharCode(i);
    for (const rest of expandHostRange(after)) out.push(before + part + rest);
  }
  return out;
}
